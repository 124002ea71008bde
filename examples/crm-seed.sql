-- The CRM as it was before syncline: contacts keyed by email, a column syncline does not map
-- (source), a tag syncline does not manage (Partner), and a rule of its own (no negative ltv).
CREATE TABLE contacts (email TEXT PRIMARY KEY NOT NULL, first_name, ltv, source);
CREATE TABLE contacts_groups (
  record_key TEXT NOT NULL,
  group_name TEXT NOT NULL,
  PRIMARY KEY (record_key, group_name)
) WITHOUT ROWID;
CREATE TRIGGER contacts_ltv_not_negative BEFORE UPDATE OF ltv ON contacts
  WHEN NEW.ltv < 0
  BEGIN SELECT RAISE(ABORT, 'ltv must not be negative'); END;

INSERT INTO contacts (email, first_name, ltv, source) VALUES
  ('ada@example.com', 'Ada', 1000, 'trade show'),
  ('grace@old.example', 'Grace', 800, 'webinar'),
  ('margaret@example.com', 'Maggie', 2100, 'referral'),
  ('someone@partner.example', 'Sam', 50, 'partner import');
INSERT INTO contacts_groups (record_key, group_name) VALUES
  ('ada@example.com', 'Partner'),
  ('someone@partner.example', 'Partner');
