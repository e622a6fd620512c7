/* capgate: the command-line entry point. Each subcommand lives with the
 * part of capgate it drives; this file only dispatches. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"serve", cmd_serve, "run the HTTPS admission webhook"},
	{"check", cmd_check, "evaluate manifests offline against a policy"},
	{"certs", cmd_certs, "create and inspect the webhook's TLS certificates"},
	{"manifests", cmd_manifests, "render the deployment manifests"},
	{"scc", cmd_scc, "render an OpenShift SecurityContextConstraints for a policy"},
	{"admission-policy", cmd_admission_policy,
	 "render the policy as Validating/MutatingAdmissionPolicy objects"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: capgate COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-17s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'capgate COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "capgate: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
