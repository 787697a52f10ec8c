/*
 * NAME
 *	config_load - load what the configuration keys name (internal to config)
 * SYNOPSIS
 *	#include "config_load.h"
 *
 *	char	*config_load_data(struct config *cfg);
 *	void	config_unload_data(struct config *cfg);
 * DESCRIPTION
 *	config_load_data() opens the login map, loads and parses the DKIM keys
 *	and creates the DNS resolver for a freshly parsed snapshot.  It returns
 *	NULL on success or a malloc'd "file:line: reason".
 *	config_unload_data() releases them (keys are wiped).
 */
#ifndef AM_CONFIG_LOAD_H
#define AM_CONFIG_LOAD_H

#include "config.h"

char *config_load_data(struct config *cfg);
void config_unload_data(struct config *cfg);

#endif
