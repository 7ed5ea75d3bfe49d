/**
 * OpenSIPS 3.5.9's documented MI examples, as the READMEs print them
 * (/var/cache/sip-drouter/opensips/opensips-3.5.9, or shared/vendor's
 * tree): modules/drouting/README §1.5 and modules/mi_http/README §1.6.
 *
 * The drouting examples are opensips-cli's text (`Key:: value`) of the
 * JSON result; `result` is that JSON as 3.5.9's drouting.c builds it
 * (mi_dr_*), which is what a script over mi_http reads. Where the README's
 * text is not what 3.5.9 answers, `readmeIsWrong` says why, from the
 * source; the others are checked line for line against `result`.
 */

export interface DocumentedCall {
  /** Where it is written. */
  example: string;
  /** The command line as documented. */
  cli: string;
  method: string;
  params?: Record<string, unknown> | unknown[];
  /** What the README prints after it ('' for nothing). */
  documented: string;
  /** The JSON-RPC result 3.5.9 builds, or its error. */
  result?: unknown;
  error?: { code: number; message: string; data?: string };
  readmeIsWrong?: string;
}

/**
 * Without partitions (use_partitions 0). The data the examples imply:
 * gateway 2 active, gateway 3 disabled by probing (probe_mode 0, so not
 * "Probing"), carrier CR1 disabled, probing on.
 */
export const WITHOUT_PARTITIONS: readonly DocumentedCall[] = [
  {
    example: 'Example 1.49',
    cli: 'dr_gw_status gw_id=2',
    method: 'dr_gw_status',
    params: { gw_id: '2' },
    documented: 'State:: Active',
    result: { State: 'Active' },
  },
  {
    example: 'Example 1.49',
    cli: 'dr_gw_status gw_id=2 status=0',
    method: 'dr_gw_status',
    params: { gw_id: '2', status: '0' },
    documented: '',
    result: 'OK',
  },
  {
    example: 'Example 1.49',
    cli: 'dr_gw_status gw_id=2',
    method: 'dr_gw_status',
    params: { gw_id: '2' },
    documented: 'Enabled:: Disabled MI',
    result: { State: 'Disabled MI' },
    readmeIsWrong: 'the key is "State" (mi_dr_print_gw_state); "Enabled" is the carriers\' key',
  },
  {
    example: 'Example 1.49',
    cli: 'dr_gw_status gw_id=3',
    method: 'dr_gw_status',
    params: { gw_id: '3' },
    documented: 'Enabled:: Inactive',
    result: { State: 'Inactive' },
    readmeIsWrong: 'the key is "State" (mi_dr_print_gw_state)',
  },
  {
    example: 'Example 1.51',
    cli: 'dr_carrier_status carrier_id=CR1',
    method: 'dr_carrier_status',
    params: { carrier_id: 'CR1' },
    documented: 'Enabled:: no',
    result: { Enabled: 'no ' },
  },
  {
    example: 'Example 1.51',
    cli: 'dr_carrier_status carrier_id=CR1 status=1',
    method: 'dr_carrier_status',
    params: { carrier_id: 'CR1', status: '1' },
    documented: '',
    result: 'OK',
  },
  {
    example: 'Example 1.51',
    cli: 'dr_carrier_status carrier_id=CR1',
    method: 'dr_carrier_status',
    params: { carrier_id: 'CR1' },
    documented: 'Enabled:: yes',
    result: { Enabled: 'yes' },
  },
  {
    example: 'Example 1.55',
    cli: 'dr_enable_probing',
    method: 'dr_enable_probing',
    documented: 'Status:: 1',
    result: { Status: 1 },
  },
  // opensips-cli sends a bare value as a positional parameter: dr_enable_probing takes them (it is not MI_NAMED_PARAMS_ONLY).
  {
    example: 'Example 1.55',
    cli: 'dr_enable_probing 0',
    method: 'dr_enable_probing',
    params: ['0'],
    documented: '',
    result: 'OK',
  },
  {
    example: 'Example 1.55',
    cli: 'dr_enable_probing',
    method: 'dr_enable_probing',
    documented: 'Status:: 0',
    result: { Status: 0 },
  },
];

/** With partitions (use_partitions 1): partition part_1 holds gateway my_gw, active. */
export const WITH_PARTITIONS: readonly DocumentedCall[] = [
  {
    example: 'Example 1.50',
    cli: 'dr_gw_status partition_name=part_1 gw_id=my_gw',
    method: 'dr_gw_status',
    params: { partition_name: 'part_1', gw_id: 'my_gw' },
    documented: 'State:: Active',
    result: { State: 'Active' },
  },
  {
    example: 'Example 1.50',
    cli: 'dr_gw_status partition_name=part_1 gw_id=my_gw status=0',
    method: 'dr_gw_status',
    params: { partition_name: 'part_1', gw_id: 'my_gw', status: '0' },
    documented: '',
    result: 'OK',
  },
  {
    example: 'Example 1.50',
    cli: 'dr_gw_status partition_name=part_1 gw_id=my_gw',
    method: 'dr_gw_status',
    params: { partition_name: 'part_1', gw_id: 'my_gw' },
    documented: 'enabled:: disabled mi',
    result: { State: 'Disabled MI' },
    readmeIsWrong: 'the key is "State" and the value "Disabled MI", capitalised (mi_dr_print_gw_state)',
  },
  {
    example: 'Example 1.50',
    cli: 'dr_gw_status partition_name=partition8 status=3',
    method: 'dr_gw_status',
    params: { partition_name: 'partition8', status: '3' },
    documented: 'enabled:: inactive',
    error: { code: -32602, message: 'Invalid params', data: 'Named parameters do not match' },
    readmeIsWrong:
      "partition_name with status and no gw_id is none of dr_gw_status's recipes (drouting.c mi_cmds[]), so mi.c get_cmd_recipe refuses it",
  },
];

/**
 * modules/mi_http/README §1.6: the envelope, for `ps` (a core command; only
 * its shape is ours to match). The reply is cut to its first process: the
 * README's own text ends the list with `},]}`, which is not JSON.
 */
export const MI_HTTP_EXAMPLE = {
  example: 'Example 1.4',
  request: '{"jsonrpc":"2.0","method":"ps","id":10}',
  reply: '{"jsonrpc":"2.0","result":{"Processes":[{"ID":0,"PID":9467,"Type":"attendant"}]},"id":10}',
} as const;
