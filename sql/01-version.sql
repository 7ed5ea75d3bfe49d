-- OpenSIPS `version` table (as in its standard-create.sql). OpenSIPS checks
-- the versions of the drouting tables at start-up; sip-drouter writes the
-- same rows so one database serves both during a migration.
CREATE TABLE version (
    table_name CHAR(32) NOT NULL,
    table_version INT UNSIGNED DEFAULT 0 NOT NULL,
    CONSTRAINT t_name_idx UNIQUE (table_name)
) ENGINE=InnoDB;
