-- One number that changes whenever anything an exchange is decided on changes: agencies,
-- systems, clients, services or grants. The gateway keeps what it read of those tables under
-- the revision it read them at, and reads only this row per request (`Store::access_revision`):
-- a suspension, a revoked client or a retired service still counts from the next request.
-- Triggers keep it, so that no write path can forget to.
CREATE TABLE access_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO access_revision (id, revision) VALUES (1, 1);

CREATE TRIGGER agencies_access_insert AFTER INSERT ON agencies
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER agencies_access_update AFTER UPDATE ON agencies
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER agencies_access_delete AFTER DELETE ON agencies
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;

CREATE TRIGGER systems_access_insert AFTER INSERT ON systems
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER systems_access_update AFTER UPDATE ON systems
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER systems_access_delete AFTER DELETE ON systems
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;

CREATE TRIGGER clients_access_insert AFTER INSERT ON clients
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER clients_access_update AFTER UPDATE ON clients
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER clients_access_delete AFTER DELETE ON clients
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;

CREATE TRIGGER services_access_insert AFTER INSERT ON services
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER services_access_update AFTER UPDATE ON services
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER services_access_delete AFTER DELETE ON services
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;

CREATE TRIGGER grants_access_insert AFTER INSERT ON grants
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER grants_access_update AFTER UPDATE ON grants
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER grants_access_delete AFTER DELETE ON grants
BEGIN UPDATE access_revision SET revision = revision + 1 WHERE id = 1; END;
