/**
 * The seven SUDDENICON hunting queries exactly as Elastic Security Labs published them in "Elastic users
 * protected from SUDDENICON's supply chain attack" (short queries quoted as facts, for tests: Quarry must
 * accept the valid ones and reject the broken ones with a precise error). Hunt 5's backslashes are as the
 * article shows them (inside a Markdown code span, so `\\` is what a reader copies).
 */
export interface PublishedHunt {
  readonly hunt: number;
  readonly language: "kuery" | "eql";
  readonly text: string;
  /** The pack rule that ships this hunt, corrected where needed. */
  readonly ruleFile: string;
  /** Whether the published text is valid as written. */
  readonly valid: boolean;
}

export const PUBLISHED_HUNTS: readonly PublishedHunt[] = [
  {
    hunt: 1,
    language: "kuery",
    text: 'process.name : "3CXDesktopApp.exe" and dns.question.name : "raw.githubusercontent.com"',
    ruleFile: "hunt1_3cx_process_resolves_raw_githubusercontent.toml",
    valid: true,
  },
  {
    hunt: 2,
    language: "kuery",
    text: 'dll.hash.sha256  : "7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896" or dll.hash.sha256 :  "c485674ee63ec8d4e8fde9800788175a8b02d3f9416d0e763360fff7f8eb4e02"',
    ruleFile: "hunt2_backdoored_ffmpeg_dll_loaded.toml",
    valid: true,
  },
  {
    hunt: 3,
    language: "eql",
    text: 'any where process.code_signature.subject_name == "3CX Ltd" or process.parent.code_signature.subject_name == "3CX Ltd"',
    ruleFile: "hunt3_3cx_signed_process_profile.toml",
    valid: true,
  },
  {
    hunt: 4,
    language: "eql",
    text: 'network where process.code_signature.subject_name == "3CX Ltd" and dns.question.name == \u201craw.githubusercontent.com\u201d',
    ruleFile: "hunt4_3cx_signed_network_raw_githubusercontent.toml",
    valid: false,
  },
  {
    hunt: 5,
    language: "eql",
    text: 'file where event.type == "creation" and (host.os.type == "windows" and file.path : "*:\\\\Users\\\\*\\\\AppData\\\\Local\\\\Programs\\\\C3XDesktopApp\\\\app\\\\*" and file.name : ("manifest")) or (host.os.type == "macos" and file.path : "*/Library/Application Support/3CX Desktop App/" and file.name : ("UpdateAgent", ".main_storage", ".session-lock")',
    ruleFile: "hunt5_3cx_desktop_app_files_written.toml",
    valid: false,
  },
  {
    hunt: 6,
    language: "eql",
    text: 'sequence by host.name, process.entity_id[process where process.code_signature.subject_name:"3CX Ltd"][library where dll.hash.sha256:"c485674ee63ec8d4e8fde9800788175a8b02d3f9416d0e763360fff7f8eb4e02","7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896"][network where dns.question.name:"raw.githubusercontent.com"]',
    ruleFile: "hunt6_3cx_ffmpeg_then_raw_githubusercontent_sequence.toml",
    valid: false,
  },
  {
    hunt: 7,
    language: "eql",
    text: 'library where process.code_signature.subject_name : "3CX Ltd" and not dll.code_signature.trusted == true and not startswith~(dll.name, process.name) and /* DLL loaded from the process.executable directory */ endswith~(substring(dll.path, 0, length(dll.path) - (length(dll.name) + 1)), substring(process.executable, 0, length(process.executable) - (length(process.name) + 1)))',
    ruleFile: "hunt7_untrusted_dll_sideloaded_by_3cx.toml",
    valid: true,
  },
];
