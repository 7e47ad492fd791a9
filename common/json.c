/* json.c - the one cJSON helper every JSON writer shares. */
#include "common.h"

#include <cjson/cJSON.h>

void json_add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}
