/* route-schema - the routes DB migrations, embedded so that a program needs
 * no data files at run time.  Each string is the exact text of
 * schema/routes-NNN.sql; t/check_route.c fails when the two differ, so edit
 * the .sql file first and copy it here.  Applied by route_open() in order,
 * one transaction each, bumping PRAGMA user_version. */
#include "route-private.h"

const char *const route_schema[] = {
    /* schema/routes-001.sql */
    "-- routes-001: the routing tables of mailcti (routes DB, [routing] db).\n"
    "--\n"
    "-- gateways: the other mailcti gateways this one relays to, by name, with the\n"
    "--           CTI mail address their milter answers on.  \"local\" is reserved:\n"
    "--           it means this host and never appears here.\n"
    "-- routes:   destination -> gateway.  kind 'prefix' keys are canonical\n"
    "--           dialled-number prefixes ('' is the default route), 'address' keys\n"
    "--           are lower-case mail addresses, 'domain' keys lower-case domains.\n"
    "-- changed:  unix seconds of the last change of the row.\n"
    "CREATE TABLE gateways (\n"
    "\tname    TEXT PRIMARY KEY NOT NULL,\n"
    "\taddress TEXT NOT NULL,\n"
    "\tnote    TEXT NOT NULL DEFAULT '',\n"
    "\tchanged INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "\n"
    "CREATE TABLE routes (\n"
    "\tkind    TEXT NOT NULL CHECK (kind IN ('prefix', 'address', 'domain')),\n"
    "\tkey     TEXT NOT NULL,\n"
    "\tgateway TEXT NOT NULL,\n"
    "\tnote    TEXT NOT NULL DEFAULT '',\n"
    "\tchanged INTEGER NOT NULL,\n"
    "\tPRIMARY KEY (kind, key)\n"
    ") WITHOUT ROWID;\n"
    "\n"
    "CREATE INDEX routes_by_gateway ON routes (gateway);\n",
};

const guint route_schema_count = G_N_ELEMENTS(route_schema);
