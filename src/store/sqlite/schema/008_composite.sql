-- 008: composite search parameters and UCUM canonical quantities
-- (https://hl7.org/fhir/R4/search.html#composite, #quantity). See docs/storage.md, "Search
-- indexes", and docs/search.md.
--
-- Resources indexed before this migration have no composite rows and no canonical quantities
-- until `vesta reindex` rebuilds their rows (docs/search.md).

-- quantity: a UCUM quantity (system http://unitsofmeasure.org, a unit code the server knows) also
-- in canonical units (`canonical_code` such as 'g', 'g.m-1.s-2'; `canonical_value` the value in
-- them); '' and 0 for other quantities. A search with a UCUM unit compares these.
ALTER TABLE search_quantity ADD COLUMN canonical_code TEXT NOT NULL DEFAULT '';
ALTER TABLE search_quantity ADD COLUMN canonical_value REAL NOT NULL DEFAULT 0;
-- Only UCUM rows need an entry: the queries repeat `canonical_code <> ''` (src/search/query.cc).
CREATE INDEX search_quantity_canonical ON search_quantity (type, param, canonical_code,
                                                           canonical_value)
  WHERE canonical_code <> '';

-- composite: one row per tuple, its components evaluated on the same item of the composite's
-- expression. Component N (1..3) is held in the columns of its type:
--   token      codeN = code, systemN = system ('' if none)
--   string     codeN = normalised value, systemN = the value as written
--   reference  codeN = 'Type/id' (relative) or the reference as written (absolute, urn:)
--   uri        codeN = the uri
--   number     lowN = highN = value (REAL)
--   date       lowN, highN = the value's precision as inclusive microseconds (INTEGER)
--   quantity   codeN = unit code (or unit text), systemN = system, lowN = highN = value (a Range:
--              its low and high); canonical_codeN, canonical_lowN, canonical_highN = the UCUM
--              canonical form ('' and 0 when none)
-- Unused columns hold '' or 0, which SQLite stores in the row header alone. NUMERIC keeps
-- integers (dates) and reals (numbers) as given; PostgreSQL: NUMERIC.
-- The first component is what a search names exactly (a code, a reference): the key index
-- starts with it, and the other components are tested on the rows it finds.
CREATE TABLE search_composite (
  seq              INTEGER NOT NULL,
  type             TEXT    NOT NULL,
  param            TEXT    NOT NULL,
  code1            TEXT    NOT NULL DEFAULT '',
  system1          TEXT    NOT NULL DEFAULT '',
  low1             NUMERIC NOT NULL DEFAULT 0,
  high1            NUMERIC NOT NULL DEFAULT 0,
  canonical_code1  TEXT    NOT NULL DEFAULT '',
  canonical_low1   REAL    NOT NULL DEFAULT 0,
  canonical_high1  REAL    NOT NULL DEFAULT 0,
  code2            TEXT    NOT NULL DEFAULT '',
  system2          TEXT    NOT NULL DEFAULT '',
  low2             NUMERIC NOT NULL DEFAULT 0,
  high2            NUMERIC NOT NULL DEFAULT 0,
  canonical_code2  TEXT    NOT NULL DEFAULT '',
  canonical_low2   REAL    NOT NULL DEFAULT 0,
  canonical_high2  REAL    NOT NULL DEFAULT 0,
  code3            TEXT    NOT NULL DEFAULT '',
  system3          TEXT    NOT NULL DEFAULT '',
  low3             NUMERIC NOT NULL DEFAULT 0,
  high3            NUMERIC NOT NULL DEFAULT 0,
  canonical_code3  TEXT    NOT NULL DEFAULT '',
  canonical_low3   REAL    NOT NULL DEFAULT 0,
  canonical_high3  REAL    NOT NULL DEFAULT 0
);
CREATE INDEX search_composite_key ON search_composite (type, param, code1, system1);
CREATE INDEX search_composite_seq ON search_composite (seq, type, param);
