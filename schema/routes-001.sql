-- routes-001: the routing tables of mailcti (routes DB, [routing] db).
--
-- gateways: the other mailcti gateways this one relays to, by name, with the
--           CTI mail address their milter answers on.  "local" is reserved:
--           it means this host and never appears here.
-- routes:   destination -> gateway.  kind 'prefix' keys are canonical
--           dialled-number prefixes ('' is the default route), 'address' keys
--           are lower-case mail addresses, 'domain' keys lower-case domains.
-- changed:  unix seconds of the last change of the row.
CREATE TABLE gateways (
	name    TEXT PRIMARY KEY NOT NULL,
	address TEXT NOT NULL,
	note    TEXT NOT NULL DEFAULT '',
	changed INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE routes (
	kind    TEXT NOT NULL CHECK (kind IN ('prefix', 'address', 'domain')),
	key     TEXT NOT NULL,
	gateway TEXT NOT NULL,
	note    TEXT NOT NULL DEFAULT '',
	changed INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;

CREATE INDEX routes_by_gateway ON routes (gateway);
