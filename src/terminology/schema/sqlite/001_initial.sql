-- The terminology schema on SQLite (docs/terminology.md describes the tables; docs/storage.md,
-- "Terminology on PostgreSQL", the PostgreSQL spelling of the same in ../postgres/).
--
-- One row per loaded (code system, version): ICD-10-CM and ICD-9-CM from their release files,
-- and the CodeSystems of a FHIR package (source 'package'). concept_fts indexes each concept's
-- display and inclusion terms for $expand's text filter. `version` is '' for an unversioned
-- system. concept.kind: see ConceptKind in code_system_writer.h. Codes are stored in their FHIR
-- form (ICD-10-CM "E11.9", ICD-9-CM "428.0"), as https://hl7.org/fhir/R4/icd.html uses them.
--
-- concept_property: a package CodeSystem's concept properties of simple types (code, string,
-- boolean, integer, dateTime, decimal), value_type being the FHIR type ("code"), and each
-- concept's definition as the property "definition". package_resource: the CodeSystem and
-- ValueSet resources of a loaded package as published (content is CodeSystem.content, '' for a
-- ValueSet). value_set / value_set_member: each package ValueSet with its members computed at
-- load time (method 'compose' or 'expansion'; complete = 0 when part of it could not be
-- evaluated, the reason in note).
--
-- IF NOT EXISTS: files written before the schema was versioned have these tables already.
CREATE TABLE IF NOT EXISTS code_system_version (
  id            INTEGER PRIMARY KEY,
  url           TEXT NOT NULL,
  version       TEXT NOT NULL,
  name          TEXT NOT NULL,
  title         TEXT NOT NULL,
  source        TEXT NOT NULL,
  source_file   TEXT NOT NULL,
  concept_count INTEGER NOT NULL DEFAULT 0,
  code_count    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (url, version)
);
CREATE TABLE IF NOT EXISTS concept (
  csv_id     INTEGER NOT NULL,
  code       TEXT NOT NULL,
  display    TEXT,
  kind       INTEGER NOT NULL,
  billable   INTEGER NOT NULL,
  parent     TEXT,
  ord        INTEGER NOT NULL,
  short_name TEXT,
  long_name  TEXT,
  PRIMARY KEY (csv_id, code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS concept_by_ord ON concept (csv_id, ord);
CREATE INDEX IF NOT EXISTS concept_by_parent_ord ON concept (csv_id, parent, ord);
CREATE TABLE IF NOT EXISTS concept_note (
  csv_id INTEGER NOT NULL,
  code   TEXT NOT NULL,
  kind   TEXT NOT NULL,
  ord    INTEGER NOT NULL,
  text   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS concept_note_by_code ON concept_note (csv_id, code);
CREATE VIRTUAL TABLE IF NOT EXISTS concept_fts USING fts5 (
  text, csv_id UNINDEXED, code UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS closure (
  csv_id     INTEGER NOT NULL,
  ancestor   TEXT NOT NULL,
  descendant TEXT NOT NULL,
  depth      INTEGER NOT NULL,
  PRIMARY KEY (csv_id, ancestor, descendant)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS closure_by_descendant ON closure (csv_id, descendant, ancestor);
CREATE TABLE IF NOT EXISTS gem (
  direction    INTEGER NOT NULL,
  source       TEXT NOT NULL,
  target       TEXT,
  approximate  INTEGER NOT NULL,
  no_map       INTEGER NOT NULL,
  combination  INTEGER NOT NULL,
  scenario     INTEGER NOT NULL,
  choice_list  INTEGER NOT NULL,
  line         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gem_by_source ON gem (direction, source);
CREATE INDEX IF NOT EXISTS gem_by_target ON gem (direction, target);
CREATE TABLE IF NOT EXISTS concept_property (
  csv_id     INTEGER NOT NULL,
  code       TEXT NOT NULL,
  property   TEXT NOT NULL,
  value_type TEXT NOT NULL,
  value      TEXT NOT NULL,
  ord        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS concept_property_by_code ON concept_property (csv_id, code);
CREATE INDEX IF NOT EXISTS concept_property_by_value ON concept_property (csv_id, property, value);
CREATE TABLE IF NOT EXISTS package_resource (
  type    TEXT NOT NULL,
  id      TEXT NOT NULL,
  url     TEXT NOT NULL,
  version TEXT NOT NULL,
  content TEXT NOT NULL,
  source  TEXT NOT NULL,
  json    TEXT NOT NULL,
  PRIMARY KEY (type, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS package_resource_by_url ON package_resource (type, url);
CREATE TABLE IF NOT EXISTS value_set (
  id           INTEGER PRIMARY KEY,
  url          TEXT NOT NULL,
  version      TEXT NOT NULL,
  resource_id  TEXT NOT NULL,
  name         TEXT NOT NULL,
  title        TEXT NOT NULL,
  source       TEXT NOT NULL,
  method       TEXT NOT NULL,
  complete     INTEGER NOT NULL,
  note         TEXT NOT NULL,
  member_count INTEGER NOT NULL,
  UNIQUE (url, version)
);
CREATE TABLE IF NOT EXISTS value_set_member (
  vs_id    INTEGER NOT NULL,
  system   TEXT NOT NULL,
  code     TEXT NOT NULL,
  version  TEXT NOT NULL,
  display  TEXT NOT NULL,
  abstract INTEGER NOT NULL,
  ord      INTEGER NOT NULL,
  PRIMARY KEY (vs_id, system, code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS value_set_member_by_ord ON value_set_member (vs_id, ord);
CREATE TABLE IF NOT EXISTS gem_file (
  direction INTEGER PRIMARY KEY,
  file      TEXT NOT NULL,
  year      TEXT NOT NULL,
  rows      INTEGER NOT NULL
);
