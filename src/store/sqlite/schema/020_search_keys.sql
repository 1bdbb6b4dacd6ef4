-- 020: the index tables name their search parameter by a number, and token and quantity rows
-- their code system by a number. See docs/storage.md, "Search indexes".
--
-- Every row and every index entry of the index tables used to repeat the resource type and the
-- parameter name as text ("Observation", "code": some 18 bytes), a token row its code system too
-- ("http://loinc.org", 19 bytes on average) in the table and two of its indexes. search_key holds
-- each (type, param) pair once and the rows its id (one or two bytes); search_system each system
-- URI once, 0 standing for "no system". Measured on 1,000 generated patients, the token rows and
-- their indexes went from 1,058 to about 500 bytes a resource, the references from 764 to 628.
--
-- The index of references by target alone, (target_type, target_id), goes too (about 180 bytes
-- a resource): what a resource is referred to by, `_revinclude=*`, reads (key, target_type,
-- target_id) once for each reference parameter, the keys marked `ref`.
--
-- A search names a parameter by a subquery, `key = (SELECT id FROM search_key WHERE type = ? AND
-- param = ?)`, which SQLite computes once per statement: no cache to keep in step, and a pair
-- that was never stored is NULL, which matches no row. Writers add a missing pair or system in
-- the same transaction as the rows that need it (search_index.cc); ids are never reused or
-- removed.
CREATE TABLE search_key (
  id    INTEGER PRIMARY KEY,
  type  TEXT NOT NULL,
  param TEXT NOT NULL,
  ref   INTEGER NOT NULL DEFAULT 0,  -- 1 for a reference parameter (its rows: search_reference)
  UNIQUE (type, param)
);
CREATE TABLE search_system (
  id  INTEGER PRIMARY KEY,
  uri TEXT NOT NULL UNIQUE
);
INSERT INTO search_system (id, uri) VALUES (0, '');

INSERT OR IGNORE INTO search_key (type, param) SELECT DISTINCT type, param FROM search_token;
INSERT OR IGNORE INTO search_key (type, param) SELECT DISTINCT type, param FROM search_string;
INSERT OR IGNORE INTO search_key (type, param) SELECT DISTINCT type, param FROM search_date;
INSERT OR IGNORE INTO search_key (type, param) SELECT DISTINCT type, param FROM search_number;
INSERT OR IGNORE INTO search_key (type, param) SELECT DISTINCT type, param FROM search_quantity;
INSERT OR IGNORE INTO search_key (type, param) SELECT DISTINCT type, param FROM search_reference;
INSERT OR IGNORE INTO search_key (type, param) SELECT DISTINCT type, param FROM search_uri;
INSERT OR IGNORE INTO search_key (type, param) SELECT DISTINCT type, param FROM search_composite;
UPDATE search_key SET ref = 1 WHERE (type, param) IN (SELECT type, param FROM search_reference);
INSERT OR IGNORE INTO search_system (uri) SELECT DISTINCT system FROM search_token;
INSERT OR IGNORE INTO search_system (uri) SELECT DISTINCT system FROM search_quantity;

-- Each table is copied in its rows' order (a resource's rows stay neighbours), then its indexes
-- are made again under their old names.
CREATE TABLE search_token_020 (
  seq  INTEGER NOT NULL,
  key  INTEGER NOT NULL,  -- search_key.id
  sys  INTEGER NOT NULL,  -- search_system.id; 0 when the value has no system
  code TEXT    NOT NULL,
  text TEXT    NOT NULL
);
INSERT INTO search_token_020 (seq, key, sys, code, text)
  SELECT t.seq, k.id, s.id, t.code, t.text FROM search_token t
  JOIN search_key k ON k.type = t.type AND k.param = t.param
  JOIN search_system s ON s.uri = t.system ORDER BY t.rowid;
DROP TABLE search_token;
ALTER TABLE search_token_020 RENAME TO search_token;
CREATE INDEX search_token_code ON search_token (key, code, sys, seq);
CREATE INDEX search_token_system ON search_token (key, sys) WHERE sys <> 0;
CREATE INDEX search_token_text ON search_token (key, text) WHERE text <> '';
CREATE INDEX search_token_seq ON search_token (seq);

CREATE TABLE search_string_020 (
  seq   INTEGER NOT NULL,
  key   INTEGER NOT NULL,
  norm  TEXT    NOT NULL,
  exact TEXT    NOT NULL
);
INSERT INTO search_string_020 (seq, key, norm, exact)
  SELECT t.seq, k.id, t.norm, t.exact FROM search_string t
  JOIN search_key k ON k.type = t.type AND k.param = t.param ORDER BY t.rowid;
DROP TABLE search_string;
ALTER TABLE search_string_020 RENAME TO search_string;
CREATE INDEX search_string_norm ON search_string (key, norm, seq);
CREATE INDEX search_string_seq ON search_string (seq);

CREATE TABLE search_date_020 (
  seq  INTEGER NOT NULL,
  key  INTEGER NOT NULL,
  low  INTEGER NOT NULL,
  high INTEGER NOT NULL
);
INSERT INTO search_date_020 (seq, key, low, high)
  SELECT t.seq, k.id, t.low, t.high FROM search_date t
  JOIN search_key k ON k.type = t.type AND k.param = t.param ORDER BY t.rowid;
DROP TABLE search_date;
ALTER TABLE search_date_020 RENAME TO search_date;
CREATE INDEX search_date_low ON search_date (key, low);
CREATE INDEX search_date_high ON search_date (key, high);
CREATE INDEX search_date_seq ON search_date (seq);

CREATE TABLE search_number_020 (
  seq   INTEGER NOT NULL,
  key   INTEGER NOT NULL,
  value REAL    NOT NULL
);
INSERT INTO search_number_020 (seq, key, value)
  SELECT t.seq, k.id, t.value FROM search_number t
  JOIN search_key k ON k.type = t.type AND k.param = t.param ORDER BY t.rowid;
DROP TABLE search_number;
ALTER TABLE search_number_020 RENAME TO search_number;
CREATE INDEX search_number_value ON search_number (key, value);
CREATE INDEX search_number_seq ON search_number (seq);

CREATE TABLE search_quantity_020 (
  seq             INTEGER NOT NULL,
  key             INTEGER NOT NULL,
  value           REAL    NOT NULL,
  sys             INTEGER NOT NULL,  -- search_system.id of the unit's system
  code            TEXT    NOT NULL,
  canonical_code  TEXT    NOT NULL DEFAULT '',
  canonical_value REAL    NOT NULL DEFAULT 0
);
INSERT INTO search_quantity_020 (seq, key, value, sys, code, canonical_code, canonical_value)
  SELECT t.seq, k.id, t.value, s.id, t.code, t.canonical_code, t.canonical_value
  FROM search_quantity t JOIN search_key k ON k.type = t.type AND k.param = t.param
  JOIN search_system s ON s.uri = t.system ORDER BY t.rowid;
DROP TABLE search_quantity;
ALTER TABLE search_quantity_020 RENAME TO search_quantity;
CREATE INDEX search_quantity_value ON search_quantity (key, value);
CREATE INDEX search_quantity_canonical ON search_quantity (key, canonical_code, canonical_value)
  WHERE canonical_code <> '';
CREATE INDEX search_quantity_seq ON search_quantity (seq);

CREATE TABLE search_reference_020 (
  seq         INTEGER NOT NULL,
  key         INTEGER NOT NULL,
  target_type TEXT    NOT NULL,
  target_id   TEXT    NOT NULL,
  url         TEXT    NOT NULL
);
INSERT INTO search_reference_020 (seq, key, target_type, target_id, url)
  SELECT t.seq, k.id, t.target_type, t.target_id, t.url FROM search_reference t
  JOIN search_key k ON k.type = t.type AND k.param = t.param ORDER BY t.rowid;
DROP TABLE search_reference;
ALTER TABLE search_reference_020 RENAME TO search_reference;
CREATE INDEX search_reference_target ON search_reference (key, target_type, target_id, seq);
CREATE INDEX search_reference_url ON search_reference (key, url) WHERE target_id = '';
CREATE INDEX search_reference_seq ON search_reference (seq);

CREATE TABLE search_uri_020 (
  seq INTEGER NOT NULL,
  key INTEGER NOT NULL,
  uri TEXT    NOT NULL
);
INSERT INTO search_uri_020 (seq, key, uri)
  SELECT t.seq, k.id, t.uri FROM search_uri t
  JOIN search_key k ON k.type = t.type AND k.param = t.param ORDER BY t.rowid;
DROP TABLE search_uri;
ALTER TABLE search_uri_020 RENAME TO search_uri;
CREATE INDEX search_uri_uri ON search_uri (key, uri);
CREATE INDEX search_uri_seq ON search_uri (seq);

CREATE TABLE search_composite_020 (
  seq              INTEGER NOT NULL,
  key              INTEGER NOT NULL,
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
INSERT INTO search_composite_020
  SELECT t.seq, k.id, t.code1, t.system1, t.low1, t.high1, t.canonical_code1, t.canonical_low1,
         t.canonical_high1, t.code2, t.system2, t.low2, t.high2, t.canonical_code2,
         t.canonical_low2, t.canonical_high2, t.code3, t.system3, t.low3, t.high3,
         t.canonical_code3, t.canonical_low3, t.canonical_high3
  FROM search_composite t JOIN search_key k ON k.type = t.type AND k.param = t.param
  ORDER BY t.rowid;
DROP TABLE search_composite;
ALTER TABLE search_composite_020 RENAME TO search_composite;
CREATE INDEX search_composite_key ON search_composite (key, code1, system1);
CREATE INDEX search_composite_seq ON search_composite (seq);
