-- 003: the distribution column for a sharded PostgreSQL (Citus; docs/deployment.md, "Sharding").
-- Every table that holds a resource's rows gets `shard_key`: the id of the patient whose
-- compartment holds the resource (https://hl7.org/fhir/R4/compartmentdefinition-patient.html) -
-- a Patient's own id; for a resource in several patients' compartments the smallest of their
-- ids - or, for a resource in no patient's compartment (Practitioner, Organization, a code
-- system...), its own "Type/id", which no patient id can equal (ids hold no '/'). A patient's
-- record then lives on one shard, and a search inside it can be routed there.
--
-- The key is taken when a resource is created and kept by every later version (the write
-- statements read it from resource_current), so that a resource never moves between shards and
-- its version rows stay together. On one PostgreSQL server nothing reads the column: it costs a
-- few bytes per row and makes `create_distributed_table(..., 'shard_key')` possible without
-- rewriting the data.

ALTER TABLE resource ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE resource_current ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_resource ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_token ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_string ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_date ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_number ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_quantity ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_reference ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_uri ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_composite ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_compartment ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE search_text ADD COLUMN shard_key TEXT COLLATE "C" NOT NULL DEFAULT '';

-- Rows written before this migration: the key from the compartment rows of the current version.
UPDATE resource_current c SET shard_key = CASE
    WHEN c.type = 'Patient' THEN c.id
    ELSE COALESCE((SELECT min(p.patient_id) FROM search_compartment p WHERE p.seq = c.seq),
                  c.type || '/' || c.id)
  END;
UPDATE resource r SET shard_key = c.shard_key
  FROM resource_current c WHERE c.type = r.type AND c.id = r.id;
UPDATE search_resource t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_token t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_string t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_date t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_number t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_quantity t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_reference t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_uri t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_composite t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_compartment t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
UPDATE search_text t SET shard_key = r.shard_key FROM resource r WHERE r.seq = t.seq;
