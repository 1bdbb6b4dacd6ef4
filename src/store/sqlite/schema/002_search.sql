-- 002: search indexes (https://hl7.org/fhir/R4/search.html). See docs/storage.md, "Search
-- indexes", and docs/search.md.
--
-- Only the current version of a resource is indexed: the search index hook deletes the rows of
-- the replaced version (by its resource.seq) and inserts the new version's rows in the same
-- transaction. Every row points at resource.seq. Index tables have no `id` column on purpose:
-- the planner's nested `seq IN (...)` / `id IN (...)` conditions rely on column names resolving to
-- the right table.
--
-- Each table's (seq, type, param) index serves deletes, _include and sort keys; the
-- (type, param, value) index serves conditions.

-- The current, non-deleted resources: what a search starts from. _id and _lastUpdated.
CREATE TABLE search_resource (
  seq          INTEGER PRIMARY KEY,  -- resource.seq of the current version
  type         TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  last_updated INTEGER NOT NULL      -- microseconds since the Unix epoch, UTC
);
CREATE INDEX search_resource_type ON search_resource (type);  -- ordered by (type, seq)
CREATE UNIQUE INDEX search_resource_id ON search_resource (type, id);
CREATE INDEX search_resource_updated ON search_resource (type, last_updated);

-- token: Coding, CodeableConcept, Identifier, ContactPoint, code, boolean...; `text` is the
-- normalised display/text for :text. Reference.identifier rows use param '<code>:identifier'.
CREATE TABLE search_token (
  seq    INTEGER NOT NULL,
  type   TEXT    NOT NULL,
  param  TEXT    NOT NULL,
  system TEXT    NOT NULL,  -- '' when the value has none
  code   TEXT    NOT NULL,
  text   TEXT    NOT NULL
);
CREATE INDEX search_token_code ON search_token (type, param, code, system);
CREATE INDEX search_token_system ON search_token (type, param, system);
CREATE INDEX search_token_text ON search_token (type, param, text);
CREATE INDEX search_token_seq ON search_token (seq, type, param);

-- string: `norm` is lower-cased without accents (prefix search is a range on it); `exact` as sent.
CREATE TABLE search_string (
  seq   INTEGER NOT NULL,
  type  TEXT    NOT NULL,
  param TEXT    NOT NULL,
  norm  TEXT    NOT NULL,
  exact TEXT    NOT NULL
);
CREATE INDEX search_string_norm ON search_string (type, param, norm);
CREATE INDEX search_string_seq ON search_string (seq, type, param);

-- date: the value's precision as an inclusive range of microseconds [low, high]; an open Period
-- end is the largest integer, an open start the smallest.
CREATE TABLE search_date (
  seq   INTEGER NOT NULL,
  type  TEXT    NOT NULL,
  param TEXT    NOT NULL,
  low   INTEGER NOT NULL,
  high  INTEGER NOT NULL
);
CREATE INDEX search_date_low ON search_date (type, param, low);
CREATE INDEX search_date_high ON search_date (type, param, high);
CREATE INDEX search_date_seq ON search_date (seq, type, param);

CREATE TABLE search_number (
  seq   INTEGER NOT NULL,
  type  TEXT    NOT NULL,
  param TEXT    NOT NULL,
  value REAL    NOT NULL
);
CREATE INDEX search_number_value ON search_number (type, param, value);
CREATE INDEX search_number_seq ON search_number (seq, type, param);

-- quantity: `code` is the unit code, or the unit text when there is no code.
CREATE TABLE search_quantity (
  seq    INTEGER NOT NULL,
  type   TEXT    NOT NULL,
  param  TEXT    NOT NULL,
  value  REAL    NOT NULL,
  system TEXT    NOT NULL,
  code   TEXT    NOT NULL
);
CREATE INDEX search_quantity_value ON search_quantity (type, param, value);
CREATE INDEX search_quantity_seq ON search_quantity (seq, type, param);

-- reference: target_type/target_id for relative references ('' otherwise); url as written.
CREATE TABLE search_reference (
  seq         INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  param       TEXT    NOT NULL,
  target_type TEXT    NOT NULL,
  target_id   TEXT    NOT NULL,
  url         TEXT    NOT NULL
);
CREATE INDEX search_reference_target ON search_reference (type, param, target_type, target_id);
CREATE INDEX search_reference_to ON search_reference (target_type, target_id);  -- _revinclude=*
CREATE INDEX search_reference_url ON search_reference (type, param, url);
CREATE INDEX search_reference_seq ON search_reference (seq, type, param);

CREATE TABLE search_uri (
  seq   INTEGER NOT NULL,
  type  TEXT    NOT NULL,
  param TEXT    NOT NULL,
  uri   TEXT    NOT NULL
);
CREATE INDEX search_uri_uri ON search_uri (type, param, uri);
CREATE INDEX search_uri_seq ON search_uri (seq, type, param);

-- The patient compartment (https://hl7.org/fhir/R4/compartmentdefinition-patient.html): which
-- patients' compartments hold each resource. Drives Patient/[id]/[type] searches.
CREATE TABLE search_compartment (
  patient_id TEXT    NOT NULL,
  seq        INTEGER NOT NULL
);
CREATE INDEX search_compartment_patient ON search_compartment (patient_id, seq);
CREATE INDEX search_compartment_seq ON search_compartment (seq);
