SELECT id, code, name, description, category, base_unit AS "baseUnit", material, dimensions,
  vat_rate AS "vatRate", is_active AS "isActive", version, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt", to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt" FROM articles WHERE id = $1::uuid AND is_active
