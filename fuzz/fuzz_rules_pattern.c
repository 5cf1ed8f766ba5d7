/* fuzz_rules_pattern.c - any bytes as a pattern (first line) and a subject
 * (second line): compile, match, prune; must never crash or hang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *nl, *leaf;
	struct rule_pattern *p = NULL;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	nl = strchr(s, '\n');
	if (nl)
		*nl++ = 0;
	else
		nl = s + strlen(s);
	leaf = strrchr(nl, '|');
	if (leaf)
		*leaf++ = 0;
	if (rule_pattern_compile(s, size & 1 ? RULE_REGISTRY : RULE_FILE, &p, NULL) == WS_OK) {
		rule_pattern_match(p, nl, leaf);
		rule_pattern_may_match_below(p, nl);
		rule_pattern_free(p);
	}
	free(s);
	return 0;
}
