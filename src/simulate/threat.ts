/**
 * What the simulator knows about the 3CX supply-chain compromise (SUDDENICON / ICONIC / SmoothOperator):
 * the published hashes, file names, paths, domains and timeline it reproduces. Source tags refer to
 * /work/shared/content/FACTS.md (§ numbers there); the pack's IOC lists (packs/3cx/iocs) carry the same
 * values with their citations, and test/pack checks the two agree.
 */

export interface InstallerBuild {
  readonly version: string;
  readonly os: "windows" | "macos";
  readonly fileName: string;
  readonly sha256: string;
  readonly sha1?: string;
  readonly md5?: string;
  /** Client executable hash (Windows 3CXDesktopApp.exe / macOS app binary) paired with this build. */
  readonly clientSha256: string;
  /** The trojanised library this build ships (ffmpeg.dll / libffmpeg.dylib). */
  readonly librarySha256: string;
  /** Whether that library carries a valid 3CX signature (Sophos: c485674e… is signed by 3CX Ltd). */
  readonly librarySigned: boolean;
}

/**
 * Trojanised Windows MSIs `[EL][SIGMA][SOPH]` and macOS DMGs `[EL][VOL][SB]`. The pairing of a client or
 * library hash with a particular installer is the simulator's choice where the sources do not say
 * (documented in docs/3cx.md); every hash itself is published.
 */
export const TROJANISED_BUILDS: readonly InstallerBuild[] = [
  {
    version: "18.12.407",
    os: "windows",
    fileName: "3cxdesktopapp-18.12.407.msi",
    sha256: "aa124a4b4df12b34e74ee7f6c683b2ebec4ce9a8edcf9be345823b4fdcf5d868",
    sha1: "bea77d1e59cf18dce22ad9a2fad52948fd7a9efa",
    md5: "f3d4144860ca10ba60f7ef4d176cc736",
    clientSha256: "dde03348075512796241389dfea5560c20a3d2a2eac95c894e7bbed5e85a0acc",
    librarySha256: "7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896",
    librarySigned: false,
  },
  {
    version: "18.12.416",
    os: "windows",
    fileName: "3cxdesktopapp-18.12.416.msi",
    sha256: "59e1edf4d82fae4978e97512b0331b7eb21dd4b838b850ba46794d9c7a2c0983",
    sha1: "bfecb8ce89a312d2ef4afc64a63847ae11c6f69e",
    md5: "0eeb1c0133eb4d571178b2d9d14ce3e9",
    clientSha256: "fad482ded2e25ce9e1dd3d3ecc3227af714bdfbbde04347dbc1b21d6a3670405",
    librarySha256: "c485674ee63ec8d4e8fde9800788175a8b02d3f9416d0e763360fff7f8eb4e02",
    librarySigned: true,
  },
  {
    version: "18.11.1213",
    os: "macos",
    fileName: "3CXDesktopApp-18.11.1213.dmg",
    sha256: "5407cda7d3a75e7b1e030b1f33337a56f293578ffa8b3ae19c671051ed314290",
    clientSha256: "92005051ae314d61074ed94a52e76b1c3e21e7f0e8c1d1fdd497a006ce45fa61",
    librarySha256: "a64fa9f1c76457ecc58402142a8728ce34ccba378c17318b3340083eeb7acc67",
    librarySigned: true,
  },
  {
    version: "18.12.416",
    os: "macos",
    fileName: "3cxdesktopapp-latest.dmg",
    sha256: "e6bbc33815b9f20b0cf832d7401dd893fbc467c800728b5891336706da0dbcec",
    sha1: "3dc840d32ce86cebf657b17cef62814646ba8e98",
    md5: "d5101c3b86d973a848ab7ed79cd11e5a",
    clientSha256: "b86c695822013483fa4e2dfdf712c5ee777d7b99cbad8c2fa2274b133481eadb",
    librarySha256: "fee4f9dabc094df24d83ec1a8c4e4ff573e5d9973caa676f58086c99561382d7",
    librarySigned: true,
  },
];

/** The d3dcompiler_47.dll carrying the RC4-encrypted stage (still validly Microsoft-signed) `[SIGMA][SOPH]`. */
export const D3DCOMPILER_SHA256 = "11be1803e2e307b647a8a7e02d128335c448ff741bf06bf52b332e0bbf423b03";
export const D3DCOMPILER_SHA1 = "20d554a80d759c50d6537dd7097fed84dd258b3e";
export const D3DCOMPILER_MD5 = "82187ad3f0c6c225e2fba0c867280cc9";

/** macOS UpdateAgent (second stage) `[SB]`, with its ad-hoc signing identifier `[PW]`. */
export const UPDATE_AGENT_SHA256 = "6c121f2b2efa6592c2c22b29218157ec9e63f385e7a1d7425857d603ddef8c59";
export const UPDATE_AGENT_SIGNING_ID = "payload2-55554944839216049d683075bc3f5a8628778bb8";

/** Where the UpdateAgent posts stolen 3CX account data `[PW][NCSC][SB]`. */
export const SBMSA_URL = "https://sbmsa.wiki/blog/_insert";

/** The ICO dead drop `[EL][VOL][ICO]`. */
export const ICON_URL_PREFIX = "https://raw.githubusercontent.com/IconStorages/images/main/icon";

/** C2 URLs decoded from icon1 … icon15 at the snapshot's HEAD `[ICO]` (icon0 holds a 3cx.com decoy). */
export const ICON_C2_URLS: readonly string[] = [
  "https://www.3cx.com/blog/event-trainings/",
  "https://msstorageazure.com/window",
  "https://officestoragebox.com/api/session",
  "https://visualstudiofactory.com/workload",
  "https://azuredeploystore.com/cloud/services",
  "https://msstorageboxes.com/office",
  "https://officeaddons.com/technologies",
  "https://sourceslabs.com/downloads",
  "https://zacharryblogs.com/feed",
  "https://pbxcloudeservices.com/phonesystem",
  "https://pbxphonenetwork.com/voip",
  "https://akamaitechcloudservices.com/v2/storage",
  "https://azureonlinestorage.com/azure/storage",
  "https://msedgepackageinfo.com/microsoft-edge",
  "https://glcloudservice.com/v1/console",
  "https://pbxsources.com/exchange",
];

/** Sizes in bytes of icon0 … icon15 at the snapshot's HEAD `[ICO]` (the proxy logs the real response size). */
export const ICON_SIZES: readonly number[] = [
  28183, 10418, 4170, 40891, 48193, 9898, 8775, 5671, 8629, 31180, 8300, 47754, 46606, 107735, 81638, 101521,
];

/**
 * Domains for the macOS dylib's beacons. Its own C2 list is not in the reachable sources (FACTS §6), so
 * the simulator draws from the C2 domains Elastic lists; the choice is synthetic.
 */
export const MACOS_C2_DOMAINS: readonly string[] = [
  "msstorageazure.com",
  "officestoragebox.com",
  "pbxsources.com",
  "pbxphonenetwork.com",
  "azureonlinecloud.com",
  "akamaicontainer.com",
  "journalide.org",
];

/** The Windows C2 User-Agent (the string the loader passes to the inner DLL) `[CN1]`. */
export const WINDOWS_C2_USER_AGENT =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) 3CXDesktopApp/18.11.1197 Chrome/102.0.5005.167 Electron/19.1.9 Safari/537.36";

/** The macOS dylib's User-Agent (XOR-0x7A decoded) `[SB][NCSC]`. */
export const MACOS_C2_USER_AGENT =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.128 Safari/537.36";

/** The clean release the simulator installs on look-alike hosts (3CX's fixed build). */
export const CLEAN_3CX_VERSION = "18.12.425";

/** A version before the compromise, for hosts that later update to a trojanised one. */
export const PRE_COMPROMISE_3CX_VERSION = "18.11.1197";

/** `manifest` timer: 7 days plus up to ~9.1 h of jitter (now + 604800 + rand() % 1800000 s, rand() <= 32767) `[EL][CN2]`. */
export const TIMER_SECONDS = 604_800;
export const TIMER_JITTER_MAX_SECONDS = 32_767;

/** The beacon interval bounds the loader passes to the inner DLL (`1200 2400`), read as seconds `[CN1]` (uncertain). */
export const BEACON_MIN_SECONDS = 1200;
export const BEACON_MAX_SECONDS = 2400;

export const WINDOWS_SIGNER = "3CX Ltd";
export const MACOS_SIGNER = "Developer ID Application: 3CX (33CF4654HL)";
export const MACOS_TEAM_ID = "33CF4654HL";
export const MACOS_BUNDLE_ID = "com.electron.3cx-desktop-app";
