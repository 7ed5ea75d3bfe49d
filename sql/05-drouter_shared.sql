-- sip-drouter's own table: values the nodes of a pair share and keep across
-- restarts (the secret of the digest nonces and of the dialog tokens), the
-- first node's winning. No `version` row: OpenSIPS does not read it.
CREATE TABLE drouter_shared (
    name CHAR(64) NOT NULL,
    value CHAR(255) NOT NULL,
    CONSTRAINT drouter_shared_name_idx UNIQUE (name)
) ENGINE=InnoDB;
