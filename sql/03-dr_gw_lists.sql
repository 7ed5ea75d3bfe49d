-- Legacy OpenSIPS 1.5-1.7 gateway lists: `#N` in a rule's gwlist names row N
-- (routing.hashRefers decides between this and a dr_carriers id).
INSERT INTO version (table_name, table_version) VALUES ('dr_gw_lists', 1);
CREATE TABLE dr_gw_lists (
    id INT(10) UNSIGNED AUTO_INCREMENT PRIMARY KEY NOT NULL,
    gwlist CHAR(255) NOT NULL,
    description CHAR(128) DEFAULT '' NOT NULL
) ENGINE=InnoDB;
