-- 002: the search index, the PostgreSQL twin of the SQLite store's search tables
-- (src/store/sqlite/schema/002_search.sql and its later migrations, in their final shape; see
-- docs/search.md and docs/storage.md). The same tables and columns, so that one search plan
-- (src/search/plan.h) reads the same rows on both stores. Spelling differences:
--   * every text column is COLLATE "C": comparisons, ranges and ORDER BY are by bytes, as in
--     SQLite, whatever the database's own locale is, and prefix searches (`LIKE 'abc%'`) can use
--     the b-tree indexes;
--   * INTEGER -> BIGINT, REAL -> DOUBLE PRECISION, the composite's NUMERIC stays NUMERIC (a date
--     component is an integer of microseconds, a number component a decimal);
--   * the full-text table is two tsvector columns with GIN indexes instead of FTS5 (the words are
--     tokenized and folded by Vesta, search/text.h, so that both stores match the same words);
--   * search_resource has no has_text column (a full-text row is deleted like any other).
-- Only current versions are indexed: a write deletes the rows of the version it replaces.

CREATE TABLE search_resource (
  seq          BIGINT PRIMARY KEY,            -- resource.seq of the current version
  type         TEXT COLLATE "C" NOT NULL,
  id           TEXT COLLATE "C" NOT NULL,
  last_updated BIGINT NOT NULL                -- microseconds since the Unix epoch, UTC
);
CREATE INDEX search_resource_type ON search_resource (type, seq);
CREATE UNIQUE INDEX search_resource_id ON search_resource (type, id);
CREATE INDEX search_resource_updated ON search_resource (type, last_updated);

CREATE TABLE search_token (
  seq    BIGINT NOT NULL,
  type   TEXT COLLATE "C" NOT NULL,
  param  TEXT COLLATE "C" NOT NULL,
  system TEXT COLLATE "C" NOT NULL,  -- '' when the value has none
  code   TEXT COLLATE "C" NOT NULL,
  text   TEXT COLLATE "C" NOT NULL   -- normalised display / text, for :text
);
CREATE INDEX search_token_code ON search_token (type, param, code, system, seq);
CREATE INDEX search_token_system ON search_token (type, param, system) WHERE system <> '';
CREATE INDEX search_token_text ON search_token (type, param, text) WHERE text <> '';
CREATE INDEX search_token_seq ON search_token (seq, type, param);

CREATE TABLE search_string (
  seq   BIGINT NOT NULL,
  type  TEXT COLLATE "C" NOT NULL,
  param TEXT COLLATE "C" NOT NULL,
  norm  TEXT COLLATE "C" NOT NULL,   -- lower case, accents removed (search/normalize.h)
  exact TEXT COLLATE "C" NOT NULL
);
CREATE INDEX search_string_norm ON search_string (type, param, norm, seq);
CREATE INDEX search_string_seq ON search_string (seq, type, param);

CREATE TABLE search_date (
  seq   BIGINT NOT NULL,
  type  TEXT COLLATE "C" NOT NULL,
  param TEXT COLLATE "C" NOT NULL,
  low   BIGINT NOT NULL,             -- the value's range in microseconds, both ends included
  high  BIGINT NOT NULL
);
CREATE INDEX search_date_low ON search_date (type, param, low);
CREATE INDEX search_date_high ON search_date (type, param, high);
CREATE INDEX search_date_seq ON search_date (seq, type, param);

CREATE TABLE search_number (
  seq   BIGINT NOT NULL,
  type  TEXT COLLATE "C" NOT NULL,
  param TEXT COLLATE "C" NOT NULL,
  value DOUBLE PRECISION NOT NULL
);
CREATE INDEX search_number_value ON search_number (type, param, value);
CREATE INDEX search_number_seq ON search_number (seq, type, param);

CREATE TABLE search_quantity (
  seq             BIGINT NOT NULL,
  type            TEXT COLLATE "C" NOT NULL,
  param           TEXT COLLATE "C" NOT NULL,
  value           DOUBLE PRECISION NOT NULL,
  system          TEXT COLLATE "C" NOT NULL,
  code            TEXT COLLATE "C" NOT NULL,
  canonical_code  TEXT COLLATE "C" NOT NULL DEFAULT '',  -- UCUM canonical unit, or ''
  canonical_value DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX search_quantity_value ON search_quantity (type, param, value);
CREATE INDEX search_quantity_canonical ON search_quantity (type, param, canonical_code,
                                                           canonical_value)
  WHERE canonical_code <> '';
CREATE INDEX search_quantity_seq ON search_quantity (seq, type, param);

CREATE TABLE search_reference (
  seq         BIGINT NOT NULL,
  type        TEXT COLLATE "C" NOT NULL,
  param       TEXT COLLATE "C" NOT NULL,
  target_type TEXT COLLATE "C" NOT NULL,  -- relative references: "Patient"; '' otherwise
  target_id   TEXT COLLATE "C" NOT NULL,
  url         TEXT COLLATE "C" NOT NULL   -- the reference as written
);
CREATE INDEX search_reference_target ON search_reference (type, param, target_type, target_id,
                                                          seq);
CREATE INDEX search_reference_to ON search_reference (target_type, target_id);  -- _revinclude=*
CREATE INDEX search_reference_url ON search_reference (type, param, url) WHERE target_id = '';
CREATE INDEX search_reference_seq ON search_reference (seq, type, param);

CREATE TABLE search_uri (
  seq   BIGINT NOT NULL,
  type  TEXT COLLATE "C" NOT NULL,
  param TEXT COLLATE "C" NOT NULL,
  uri   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX search_uri_uri ON search_uri (type, param, uri);
CREATE INDEX search_uri_seq ON search_uri (seq, type, param);

-- One row per component tuple of a composite parameter; a component's columns hold a token
-- (code, system), a string (code = normalised, system = exact), a reference or uri (code), a
-- date, number or quantity range (low, high) and a UCUM quantity's canonical form.
CREATE TABLE search_composite (
  seq             BIGINT NOT NULL,
  type            TEXT COLLATE "C" NOT NULL,
  param           TEXT COLLATE "C" NOT NULL,
  code1           TEXT COLLATE "C" NOT NULL DEFAULT '',
  system1         TEXT COLLATE "C" NOT NULL DEFAULT '',
  low1            NUMERIC NOT NULL DEFAULT 0,
  high1           NUMERIC NOT NULL DEFAULT 0,
  canonical_code1 TEXT COLLATE "C" NOT NULL DEFAULT '',
  canonical_low1  DOUBLE PRECISION NOT NULL DEFAULT 0,
  canonical_high1 DOUBLE PRECISION NOT NULL DEFAULT 0,
  code2           TEXT COLLATE "C" NOT NULL DEFAULT '',
  system2         TEXT COLLATE "C" NOT NULL DEFAULT '',
  low2            NUMERIC NOT NULL DEFAULT 0,
  high2           NUMERIC NOT NULL DEFAULT 0,
  canonical_code2 TEXT COLLATE "C" NOT NULL DEFAULT '',
  canonical_low2  DOUBLE PRECISION NOT NULL DEFAULT 0,
  canonical_high2 DOUBLE PRECISION NOT NULL DEFAULT 0,
  code3           TEXT COLLATE "C" NOT NULL DEFAULT '',
  system3         TEXT COLLATE "C" NOT NULL DEFAULT '',
  low3            NUMERIC NOT NULL DEFAULT 0,
  high3           NUMERIC NOT NULL DEFAULT 0,
  canonical_code3 TEXT COLLATE "C" NOT NULL DEFAULT '',
  canonical_low3  DOUBLE PRECISION NOT NULL DEFAULT 0,
  canonical_high3 DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX search_composite_key ON search_composite (type, param, code1, system1);
CREATE INDEX search_composite_seq ON search_composite (seq, type, param);

-- The patient compartment (https://hl7.org/fhir/R4/compartmentdefinition-patient.html): which
-- patients' compartments hold each current resource.
CREATE TABLE search_compartment (
  patient_id TEXT COLLATE "C" NOT NULL,
  seq        BIGINT NOT NULL
);
CREATE INDEX search_compartment_patient ON search_compartment (patient_id, seq);
CREATE INDEX search_compartment_seq ON search_compartment (seq);

-- _text and _content (https://hl7.org/fhir/R4/search.html#text): one row per current resource
-- with text. `narrative` holds the words of text.div; `everything` the narrative's words, then
-- every other text value's (search/text.h, TextRow), so that the words of one _content query
-- may come from both. Positions make "phrases" work.
CREATE TABLE search_text (
  seq        BIGINT PRIMARY KEY,
  narrative  TSVECTOR NOT NULL,
  everything TSVECTOR NOT NULL
);
CREATE INDEX search_text_narrative ON search_text USING gin (narrative);
CREATE INDEX search_text_everything ON search_text USING gin (everything);
