/*
 * NAME
 *	config_load - load the data that configuration keys name
 * SYNOPSIS
 *	See include/config_load.h.
 * DESCRIPTION
 *	Runs once per snapshot (start-up, SIGHUP, -n, -t), before privileges
 *	are dropped, so key files can stay readable by root only.
 */
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "maps.h"

/* config_load_data - open maps, keys and the resolver */
char *config_load_data(struct config *cfg)
{
    char *error = NULL;

    if (cfg->sender_login_map_path != NULL) {
        cfg->sender_login_map = map_open(cfg->sender_login_map_path, &error);
        if (cfg->sender_login_map == NULL)
            return error;
    }
    return NULL;
}

/* config_unload_data - release what config_load_data loaded */
void config_unload_data(struct config *cfg)
{
    map_free(&cfg->sender_login_map);
}
