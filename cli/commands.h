/* The subcommands of the capgate binary. Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit code. */
#ifndef CG_COMMANDS_H
#define CG_COMMANDS_H

int cmd_check(int argc, char **argv);		 /* cli/check.c */
int cmd_serve(int argc, char **argv);		 /* cli/serve.c */
int cmd_certs(int argc, char **argv);		 /* cli/certs.c */
int cmd_manifests(int argc, char **argv);	 /* cli/manifests.c */
int cmd_scc(int argc, char **argv);		 /* cli/manifests.c */
int cmd_admission_policy(int argc, char **argv); /* cli/admission_policy.c */

#endif
