-- One number that changes whenever anything an exchange is decided on changes: agencies,
-- systems, clients, services or grants. The gateway keeps what it read of those tables under
-- the revision it read them at, and reads only this row per request (`Store::access_revision`):
-- a suspension, a revoked client or a retired service still counts from the next request, on
-- every node. Triggers keep it, so that no write path can forget to.
CREATE TABLE access_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO access_revision (id, revision) VALUES (1, 1);

CREATE FUNCTION bump_access_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE access_revision SET revision = revision + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER agencies_access AFTER INSERT OR UPDATE OR DELETE ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_revision();
CREATE TRIGGER systems_access AFTER INSERT OR UPDATE OR DELETE ON systems
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_revision();
CREATE TRIGGER clients_access AFTER INSERT OR UPDATE OR DELETE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_revision();
CREATE TRIGGER services_access AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_revision();
CREATE TRIGGER grants_access AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_revision();
