-- Gongzhi schema 12: party members at home (党员回小区), check-ins and receipts.
-- Party membership is sensitive personal information: only the policy's
-- ReadParty holders, the member and their employer unit's contact see it.

CREATE TABLE party_members (
  id TEXT PRIMARY KEY,
  person_id TEXT NOT NULL UNIQUE REFERENCES people(id),
  compound_id TEXT NOT NULL REFERENCES places(id),
  part_id TEXT NOT NULL REFERENCES parts(id),
  status TEXT NOT NULL,
  employer_org_id TEXT REFERENCES organisations(id),
  joined_on TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX party_members_compound ON party_members(compound_id);
CREATE INDEX party_members_part ON party_members(part_id);
CREATE INDEX party_members_employer ON party_members(employer_org_id);

-- A check-in to the branch of the compound where the member lives, once a
-- year: asked online by the member, or recorded from a paper form.
CREATE TABLE party_checkins (
  id TEXT PRIMARY KEY,
  member_id TEXT NOT NULL REFERENCES party_members(id),
  compound_id TEXT NOT NULL REFERENCES places(id),
  branch_org_id TEXT REFERENCES organisations(id),
  year BIGINT NOT NULL,
  channel TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX party_checkins_member_year ON party_checkins(member_id, year);
CREATE INDEX party_checkins_compound ON party_checkins(compound_id);

-- The branch's confirmation, which issues the receipt (报到回执单).
CREATE TABLE party_receipts (
  checkin_id TEXT PRIMARY KEY REFERENCES party_checkins(id),
  code TEXT NOT NULL UNIQUE,
  confirmed_by TEXT NOT NULL,
  confirmed_at BIGINT NOT NULL
);
