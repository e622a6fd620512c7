/* Links policy/default.yaml into the binary verbatim: the embedded default
 * policy and the shipped file are one source. */
	.section .rodata
	.global policy_default_yaml_start
	.global policy_default_yaml_end
policy_default_yaml_start:
	.incbin "policy/default.yaml"
policy_default_yaml_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
