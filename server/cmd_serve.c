/* PLACEHOLDER: replaced by the real implementation. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "capgate %s: not built yet\n", argv[0]);
	return 2;
}
