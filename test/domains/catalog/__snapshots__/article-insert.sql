INSERT INTO articles (code, name, description, category, base_unit, material, dimensions, vat_rate, is_active)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric, $9::boolean) RETURNING id, code, name, description, category, base_unit AS "baseUnit", material, dimensions,
  vat_rate AS "vatRate", is_active AS "isActive", version, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt", to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "updatedAt"
