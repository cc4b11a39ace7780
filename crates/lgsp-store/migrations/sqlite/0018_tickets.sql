-- Tickets between consumers, providers and the operator (Q15.2.g, Q16.1.b, Q17.4, Q22.2, Q23;
-- Decree 47/2020 art. 48), their threads, and attachments owned by any record.

-- Attachments belong to a record of some kind (`ticket`, `sharing_request`); the letters of
-- catalog proposals, stored before, are referenced by their proposal and own nothing here.
ALTER TABLE attachments ADD COLUMN owner_kind TEXT;
ALTER TABLE attachments ADD COLUMN owner_id INTEGER;
CREATE INDEX attachments_owner ON attachments (owner_kind, owner_id);

CREATE TABLE tickets (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT NOT NULL
        CHECK (kind IN ('technical', 'dispute', 'data_use', 'simplification')),
    subject             TEXT NOT NULL,
    body                TEXT NOT NULL,
    -- The opener's agency; NULL for a citizen.
    opener_agency       TEXT REFERENCES agencies (code),
    opened_by           TEXT NOT NULL,
    -- The agency that answers; NULL for the operator.
    assignee_agency     TEXT REFERENCES agencies (code),
    -- The other side of a dispute (the provider that refused), who reads and comments.
    counterparty_agency TEXT REFERENCES agencies (code),
    grant_id            INTEGER REFERENCES grants (id),
    sharing_request_id  INTEGER REFERENCES sharing_requests (id),
    service_id          INTEGER REFERENCES services (id),
    dataset_id          TEXT,
    state               TEXT NOT NULL
        CHECK (state IN ('open', 'in_progress', 'resolved', 'closed')),
    due_at              TEXT NOT NULL,
    escalated_at        TEXT,
    escalated_by        TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX tickets_opener ON tickets (opener_agency);
CREATE INDEX tickets_assignee ON tickets (assignee_agency);
CREATE INDEX tickets_open_due ON tickets (state, due_at);
-- One dispute per sharing request: the one its refusal opened.
CREATE UNIQUE INDEX tickets_dispute_of_request ON tickets (sharing_request_id)
    WHERE kind = 'dispute';

-- The thread: every comment and every step, oldest first.
CREATE TABLE ticket_events (
    id          INTEGER PRIMARY KEY,
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    step        TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    message     TEXT,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id);
