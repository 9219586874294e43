// Organizations: station groups, stations, suppliers with their sites, contacts; password-reset
// tokens. Stations and suppliers share their id with their `organizations` row (users reference
// organizations); a trigger keeps the organization's name and active flag in step.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE station_groups (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      description text,
      is_active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX station_groups_name ON station_groups (lower(name));
    CREATE INDEX station_groups_list ON station_groups (name, id);
    CREATE INDEX station_groups_active ON station_groups (is_active, name, id);
    CREATE INDEX station_groups_name_trgm ON station_groups USING gin (name gin_trgm_ops);

    CREATE TABLE stations (
      id uuid PRIMARY KEY REFERENCES organizations (id),
      code text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{1,39}$'),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      group_id uuid REFERENCES station_groups (id),
      address_line1 text, address_line2 text, postal_code text, city text, country text NOT NULL DEFAULT 'FR',
      phone text, email text,
      is_active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX stations_group ON stations (group_id, name, id);
    CREATE INDEX stations_name ON stations (name, id);
    CREATE INDEX stations_city ON stations (lower(city), name, id);
    CREATE INDEX stations_active ON stations (is_active, name, id);
    CREATE INDEX stations_name_trgm ON stations USING gin (name gin_trgm_ops);
    CREATE INDEX stations_code_trgm ON stations USING gin (code gin_trgm_ops);

    CREATE TABLE suppliers (
      id uuid PRIMARY KEY REFERENCES organizations (id),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      siret text CHECK (siret ~ '^[0-9]{14}$'),
      email text, phone text, website text,
      address_line1 text, address_line2 text, postal_code text, city text, country text NOT NULL DEFAULT 'FR',
      is_active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX suppliers_siret ON suppliers (siret) WHERE siret IS NOT NULL;
    CREATE INDEX suppliers_name ON suppliers (name, id);
    CREATE INDEX suppliers_active ON suppliers (is_active, name, id);
    CREATE INDEX suppliers_name_trgm ON suppliers USING gin (name gin_trgm_ops);

    CREATE TABLE supplier_sites (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      supplier_id uuid NOT NULL REFERENCES suppliers (id),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      address_line1 text, address_line2 text, postal_code text, city text, country text NOT NULL DEFAULT 'FR',
      is_primary boolean NOT NULL DEFAULT false,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX supplier_sites_supplier ON supplier_sites (supplier_id, name, id);
    CREATE UNIQUE INDEX supplier_sites_one_primary ON supplier_sites (supplier_id) WHERE is_primary;

    CREATE TABLE contacts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      organization_id uuid NOT NULL REFERENCES organizations (id),
      full_name text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
      position text, phone text, email text,
      is_primary boolean NOT NULL DEFAULT false,
      is_active boolean NOT NULL DEFAULT true,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX contacts_org ON contacts (organization_id, full_name, id);
    CREATE UNIQUE INDEX contacts_one_primary ON contacts (organization_id) WHERE is_primary AND is_active;

    CREATE TABLE password_reset_tokens (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id),
      token_hash text NOT NULL UNIQUE,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX password_reset_tokens_user ON password_reset_tokens (user_id);

    CREATE FUNCTION sync_organization() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.name IS DISTINCT FROM OLD.name OR NEW.is_active IS DISTINCT FROM OLD.is_active THEN
        UPDATE organizations SET name = NEW.name, is_active = NEW.is_active, updated_at = now(), version = version + 1 WHERE id = NEW.id;
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER stations_sync_org AFTER UPDATE OF name, is_active ON stations FOR EACH ROW EXECUTE FUNCTION sync_organization();
    CREATE TRIGGER suppliers_sync_org AFTER UPDATE OF name, is_active ON suppliers FOR EACH ROW EXECUTE FUNCTION sync_organization();
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS password_reset_tokens, contacts, supplier_sites, suppliers, stations, station_groups CASCADE;
    DROP FUNCTION IF EXISTS sync_organization;
  `.execute(db)
}
