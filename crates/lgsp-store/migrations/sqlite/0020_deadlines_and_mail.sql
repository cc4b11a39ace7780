-- Response deadlines of sharing requests in working days (Q16.1), their escalation to the
-- operator when overdue, and the outbox of e-mail notifications to focal officers.

-- The end of the provider's answer period while a request is pending; NULL before this
-- migration and once decided.
ALTER TABLE sharing_requests ADD COLUMN respond_by TEXT;
-- When the overdue request was escalated to the operator (once per pending period).
ALTER TABLE sharing_requests ADD COLUMN escalated_at TEXT;
CREATE INDEX sharing_requests_due ON sharing_requests (respond_by)
    WHERE state = 'pending' AND escalated_at IS NULL;

-- E-mails waiting to be sent, sent, or given up on after `attempts` tries. A node takes a due
-- message by moving its next_attempt_at ahead (a lease), so nodes never send the same at once.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    link            TEXT,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT,
    failed_at       TEXT,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
