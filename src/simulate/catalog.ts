/**
 * The benign world the simulator draws from: Windows and macOS binaries with their real install paths,
 * signers and version info; the libraries they load; the domains they talk to. Hashes of benign files are
 * stand-ins (deterministic in the file's name and version, never a real file's digest), so no benign
 * simulated file ever collides with a published indicator.
 */
import { hashString, standInHash } from "./prng.js";

export type Os = "windows" | "macos";

/** File digests; published indicators sometimes give only the sha256, so md5 and sha1 may be absent. */
export interface Digests {
  readonly md5?: string;
  readonly sha1?: string;
  readonly sha256: string;
}

export interface Signature {
  /** Empty when the file is unsigned. */
  readonly subject: string;
  readonly trusted: boolean;
  /** Windows: "trusted", "errorUntrustedRoot", ...; macOS: "No error." or the codesign error text. */
  readonly status: string;
  readonly teamId?: string;
  readonly signingId?: string;
}

export interface Binary {
  readonly key: string;
  readonly os: Os;
  readonly name: string;
  /** Install path; `{home}` is the user's profile folder. */
  readonly path: string;
  readonly signature: Signature;
  readonly version: string;
  readonly product?: string;
  readonly company?: string;
  readonly description?: string;
  readonly digests: Digests;
}

export interface Library {
  readonly name: string;
  readonly path: string;
  readonly signature: Signature;
  readonly digests: Digests;
}

export function digestsFor(identity: string): Digests {
  return {
    md5: standInHash(identity, 32),
    sha1: standInHash(identity, 40),
    sha256: standInHash(identity, 64),
  };
}

export function winSig(subject: string): Signature {
  return subject === ""
    ? { subject: "", trusted: false, status: "" }
    : { subject, trusted: true, status: "trusted" };
}

export function macSig(subject: string, teamId: string, signingId: string): Signature {
  return { subject, trusted: true, status: "No error.", teamId, signingId };
}

const MS_WIN = winSig("Microsoft Windows");
const MS_CORP = winSig("Microsoft Corporation");

export interface BinarySpec {
  readonly key: string;
  readonly path: string;
  readonly signature: Signature;
  readonly version: string;
  readonly product?: string;
  readonly company?: string;
  readonly description?: string;
}

export function binary(os: Os, spec: BinarySpec): Binary {
  const sep = os === "windows" ? "\\" : "/";
  const name = spec.path.slice(spec.path.lastIndexOf(sep) + 1);
  return { ...spec, os, name, digests: digestsFor(`${spec.path}|${spec.version}`) };
}

function library(os: Os, path: string, signature: Signature, version = "1"): Library {
  const sep = os === "windows" ? "\\" : "/";
  return {
    name: path.slice(path.lastIndexOf(sep) + 1),
    path,
    signature,
    digests: digestsFor(`${path}|${version}`),
  };
}

const WIN_VERSION = "10.0.19041.2673";

const win = (
  key: string,
  path: string,
  signature: Signature,
  version: string,
  product?: string,
  company?: string,
  description?: string,
) => binary("windows", { key, path, signature, version, product, company, description });

/** Windows binaries by key. */
export const WIN: Readonly<Record<string, Binary>> = Object.fromEntries(
  [
    win(
      "userinit",
      "C:\\Windows\\System32\\userinit.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Userinit Logon Application",
    ),
    win(
      "winlogon",
      "C:\\Windows\\System32\\winlogon.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Windows Logon Application",
    ),
    win(
      "explorer",
      "C:\\Windows\\explorer.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Windows Explorer",
    ),
    win(
      "svchost",
      "C:\\Windows\\System32\\svchost.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Host Process for Windows Services",
    ),
    win(
      "services",
      "C:\\Windows\\System32\\services.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Services and Controller app",
    ),
    win(
      "runtimebroker",
      "C:\\Windows\\System32\\RuntimeBroker.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Runtime Broker",
    ),
    win(
      "taskhostw",
      "C:\\Windows\\System32\\taskhostw.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Host Process for Windows Tasks",
    ),
    win(
      "backgroundtaskhost",
      "C:\\Windows\\System32\\backgroundTaskHost.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Background Task Host",
    ),
    win(
      "searchprotocolhost",
      "C:\\Windows\\System32\\SearchProtocolHost.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Microsoft Windows Search Protocol Host",
    ),
    win(
      "searchfilterhost",
      "C:\\Windows\\System32\\SearchFilterHost.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Microsoft Windows Search Filter Host",
    ),
    win(
      "searchindexer",
      "C:\\Windows\\System32\\SearchIndexer.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Microsoft Windows Search Indexer",
    ),
    win(
      "dllhost",
      "C:\\Windows\\System32\\dllhost.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "COM Surrogate",
    ),
    win(
      "conhost",
      "C:\\Windows\\System32\\conhost.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Console Window Host",
    ),
    win(
      "cmd",
      "C:\\Windows\\System32\\cmd.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Windows Command Processor",
    ),
    win(
      "powershell",
      "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Windows PowerShell",
    ),
    win(
      "wmiprvse",
      "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "WMI Provider Host",
    ),
    win(
      "msiexec",
      "C:\\Windows\\System32\\msiexec.exe",
      MS_WIN,
      WIN_VERSION,
      "Windows Installer - Unicode",
      "Microsoft Corporation",
      "Windows® installer",
    ),
    win(
      "notepad",
      "C:\\Windows\\System32\\notepad.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Notepad",
    ),
    win(
      "rundll32",
      "C:\\Windows\\System32\\rundll32.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Windows host process (Rundll32)",
    ),
    win(
      "smartscreen",
      "C:\\Windows\\System32\\smartscreen.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Windows Defender SmartScreen",
    ),
    win(
      "wermgr",
      "C:\\Windows\\System32\\wermgr.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Windows Problem Reporting",
    ),
    win(
      "consent",
      "C:\\Windows\\System32\\consent.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Consent UI for administrative applications",
    ),
    win(
      "whoami",
      "C:\\Windows\\System32\\whoami.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "whoami - displays logged on user information",
    ),
    win(
      "ipconfig",
      "C:\\Windows\\System32\\ipconfig.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "IP Configuration Utility",
    ),
    win(
      "systeminfo",
      "C:\\Windows\\System32\\systeminfo.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Displays system information",
    ),
    win(
      "tasklist",
      "C:\\Windows\\System32\\tasklist.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Lists the current running tasks",
    ),
    win(
      "mpcmdrun",
      "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.23020.10-0\\MpCmdRun.exe",
      MS_CORP,
      "4.18.23020.10",
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Microsoft Malware Protection Command Line Utility",
    ),
    win(
      "msmpeng",
      "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.23020.10-0\\MsMpEng.exe",
      MS_CORP,
      "4.18.23020.10",
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Antimalware Service Executable",
    ),
    win(
      "edgeupdate",
      "C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe",
      MS_CORP,
      "1.3.173.45",
      "Microsoft Edge Update",
      "Microsoft Corporation",
      "Microsoft Edge Update",
    ),
    win(
      "chrome",
      "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
      winSig("Google LLC"),
      "111.0.5563.65",
      "Google Chrome",
      "Google LLC",
      "Google Chrome",
    ),
    win(
      "msedge",
      "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
      MS_CORP,
      "111.0.1661.54",
      "Microsoft Edge",
      "Microsoft Corporation",
      "Microsoft Edge",
    ),
    win(
      "outlook",
      "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
      MS_CORP,
      "16.0.16130.20306",
      "Microsoft Outlook",
      "Microsoft Corporation",
      "Microsoft Outlook",
    ),
    win(
      "winword",
      "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
      MS_CORP,
      "16.0.16130.20306",
      "Microsoft Office",
      "Microsoft Corporation",
      "Microsoft Word",
    ),
    win(
      "excel",
      "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
      MS_CORP,
      "16.0.16130.20306",
      "Microsoft Office",
      "Microsoft Corporation",
      "Microsoft Excel",
    ),
    win(
      "powerpnt",
      "C:\\Program Files\\Microsoft Office\\root\\Office16\\POWERPNT.EXE",
      MS_CORP,
      "16.0.16130.20306",
      "Microsoft Office",
      "Microsoft Corporation",
      "Microsoft PowerPoint",
    ),
    win(
      "teams",
      "{home}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe",
      MS_CORP,
      "1.6.0.6754",
      "Microsoft Teams",
      "Microsoft Corporation",
      "Microsoft Teams",
    ),
    win(
      "onedrive",
      "{home}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe",
      MS_CORP,
      "23.043.0226.0001",
      "Microsoft OneDrive",
      "Microsoft Corporation",
      "Microsoft OneDrive",
    ),
    win(
      "slack",
      "{home}\\AppData\\Local\\slack\\app-4.31.156\\slack.exe",
      winSig("Slack Technologies, Inc."),
      "4.31.156",
      "Slack",
      "Slack Technologies Inc.",
      "Slack",
    ),
    win(
      "discord",
      "{home}\\AppData\\Local\\Discord\\app-1.0.9011\\Discord.exe",
      winSig("Discord Inc."),
      "1.0.9011",
      "Discord",
      "Discord Inc.",
      "Discord",
    ),
    win(
      "signal",
      "{home}\\AppData\\Local\\Programs\\signal-desktop\\Signal.exe",
      winSig("Signal Messenger, LLC"),
      "6.11.0",
      "Signal",
      "Signal Messenger, LLC",
      "Signal",
    ),
    win(
      "code",
      "{home}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe",
      MS_CORP,
      "1.76.2",
      "Visual Studio Code",
      "Microsoft Corporation",
      "Visual Studio Code",
    ),
    win(
      "zoom",
      "{home}\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe",
      winSig("Zoom Video Communications, Inc."),
      "5.13.11.14425",
      "Zoom",
      "Zoom Video Communications, Inc.",
      "Zoom Meetings",
    ),
    win(
      "acrobat",
      "C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe",
      winSig("Adobe Inc."),
      "23.1.20093.0",
      "Adobe Acrobat",
      "Adobe Systems Incorporated",
      "Adobe Acrobat",
    ),
    win(
      "git",
      "C:\\Program Files\\Git\\cmd\\git.exe",
      winSig("Johannes Schindelin"),
      "2.40.0.1",
      "Git",
      "The Git Development Community",
      "Git for Windows",
    ),
    win(
      "git-remote-https",
      "C:\\Program Files\\Git\\mingw64\\libexec\\git-core\\git-remote-https.exe",
      winSig("Johannes Schindelin"),
      "2.40.0.1",
      "Git",
      "The Git Development Community",
      "Git for Windows",
    ),
    win(
      "curl",
      "C:\\Windows\\System32\\curl.exe",
      MS_WIN,
      WIN_VERSION,
      "The curl executable",
      "curl, https://curl.se/",
      "The curl executable",
    ),
    win(
      "python",
      "C:\\Program Files\\Python311\\python.exe",
      winSig("Python Software Foundation"),
      "3.11.2150.1013",
      "Python",
      "Python Software Foundation",
      "Python",
    ),
    win(
      "mstsc",
      "C:\\Windows\\System32\\mstsc.exe",
      MS_WIN,
      WIN_VERSION,
      "Microsoft® Windows® Operating System",
      "Microsoft Corporation",
      "Remote Desktop Connection",
    ),
    win(
      "endpoint",
      "C:\\Program Files\\Elastic\\Endpoint\\elastic-endpoint.exe",
      winSig("Elasticsearch, Inc."),
      "8.6.2",
      "Elastic Endpoint",
      "Elasticsearch, Inc.",
      "Elastic Endpoint",
    ),
    win(
      "logioptions",
      "C:\\Program Files\\LogiOptionsPlus\\logioptionsplus_agent.exe",
      winSig("Logitech Inc"),
      "1.36.0.0",
      "Logi Options+",
      "Logitech",
      "Logi Options+ Agent",
    ),
  ].map((b) => [b.key, b]),
);

const APPLE = (signingId: string) => ({
  subject: "Software Signing",
  trusted: true,
  status: "No error.",
  signingId,
});

const mac = (key: string, path: string, signature: Signature, version: string) =>
  binary("macos", { key, path, signature, version });

/** macOS binaries by key. */
export const MAC: Readonly<Record<string, Binary>> = Object.fromEntries(
  [
    mac("launchd", "/sbin/launchd", APPLE("com.apple.xpc.launchd"), "13.2.1"),
    mac(
      "loginwindow",
      "/System/Library/CoreServices/loginwindow.app/Contents/MacOS/loginwindow",
      APPLE("com.apple.loginwindow"),
      "13.2.1",
    ),
    mac(
      "finder",
      "/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder",
      APPLE("com.apple.finder"),
      "13.2.1",
    ),
    mac("safari", "/Applications/Safari.app/Contents/MacOS/Safari", APPLE("com.apple.Safari"), "16.3"),
    mac(
      "chrome",
      "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
      macSig("Developer ID Application: Google LLC (EQHXZ8M8AV)", "EQHXZ8M8AV", "com.google.Chrome"),
      "111.0.5563.64",
    ),
    mac(
      "chrome-helper",
      "/Applications/Google Chrome.app/Contents/Frameworks/Google Chrome Framework.framework/Versions/111.0.5563.64/Helpers/Google Chrome Helper.app/Contents/MacOS/Google Chrome Helper",
      macSig("Developer ID Application: Google LLC (EQHXZ8M8AV)", "EQHXZ8M8AV", "com.google.Chrome.helper"),
      "111.0.5563.64",
    ),
    mac(
      "slack",
      "/Applications/Slack.app/Contents/MacOS/Slack",
      macSig(
        "Developer ID Application: Slack Technologies, Inc. (BQR82RBBHL)",
        "BQR82RBBHL",
        "com.tinyspeck.slackmacgap",
      ),
      "4.31.156",
    ),
    mac(
      "zoom",
      "/Applications/zoom.us.app/Contents/MacOS/zoom.us",
      macSig(
        "Developer ID Application: Zoom Video Communications, Inc. (BJ4HAAB9B3)",
        "BJ4HAAB9B3",
        "us.zoom.xos",
      ),
      "5.13.11",
    ),
    mac(
      "teams",
      "/Applications/Microsoft Teams.app/Contents/MacOS/Teams",
      macSig(
        "Developer ID Application: Microsoft Corporation (UBF8T346G9)",
        "UBF8T346G9",
        "com.microsoft.teams",
      ),
      "1.6.00.4472",
    ),
    mac(
      "outlook",
      "/Applications/Microsoft Outlook.app/Contents/MacOS/Microsoft Outlook",
      macSig(
        "Developer ID Application: Microsoft Corporation (UBF8T346G9)",
        "UBF8T346G9",
        "com.microsoft.Outlook",
      ),
      "16.71",
    ),
    mac(
      "terminal",
      "/System/Applications/Utilities/Terminal.app/Contents/MacOS/Terminal",
      APPLE("com.apple.Terminal"),
      "2.13",
    ),
    mac("zsh", "/bin/zsh", APPLE("com.apple.zsh"), "5.8.1"),
    mac("sh", "/bin/sh", APPLE("com.apple.sh"), "5.2"),
    mac("git", "/usr/bin/git", APPLE("com.apple.git"), "2.37.1"),
    mac("curl", "/usr/bin/curl", APPLE("com.apple.curl"), "7.86.0"),
    mac("python3", "/usr/bin/python3", APPLE("com.apple.python3"), "3.9.6"),
    mac(
      "mdworker",
      "/System/Library/Frameworks/CoreServices.framework/Versions/A/Frameworks/Metadata.framework/Versions/A/Support/mdworker_shared",
      APPLE("com.apple.mdworker_shared"),
      "13.2.1",
    ),
    mac(
      "softwareupdated",
      "/System/Library/PrivateFrameworks/MobileSoftwareUpdate.framework/Support/softwareupdated",
      APPLE("com.apple.softwareupdated"),
      "13.2.1",
    ),
    mac("trustd", "/usr/libexec/trustd", APPLE("com.apple.trustd"), "13.2.1"),
    mac(
      "cloudd",
      "/System/Library/PrivateFrameworks/CloudKitDaemon.framework/Support/cloudd",
      APPLE("com.apple.cloudd"),
      "13.2.1",
    ),
    mac("nsurlsessiond", "/usr/libexec/nsurlsessiond", APPLE("com.apple.nsurlsessiond"), "13.2.1"),
    mac("hdiutil", "/usr/bin/hdiutil", APPLE("com.apple.hdiutil"), "13.2.1"),
    mac(
      "diskimagemounter",
      "/System/Library/CoreServices/DiskImageMounter.app/Contents/MacOS/DiskImageMounter",
      APPLE("com.apple.DiskImageMounter"),
      "13.2.1",
    ),
    mac("ditto", "/usr/bin/ditto", APPLE("com.apple.ditto"), "13.2.1"),
    mac("xpcproxy", "/usr/libexec/xpcproxy", APPLE("com.apple.xpc.proxy"), "13.2.1"),
    mac(
      "endpoint",
      "/Library/Elastic/Endpoint/elastic-endpoint.app/Contents/MacOS/elastic-endpoint",
      macSig(
        "Developer ID Application: Elasticsearch, Inc (2BT3HPN62Z)",
        "2BT3HPN62Z",
        "co.elastic.endpoint",
      ),
      "8.6.2",
    ),
    mac(
      "brew",
      "/opt/homebrew/bin/brew",
      { subject: "", trusted: false, status: "code object is not signed at all" },
      "4.0.6",
    ),
  ].map((b) => [b.key, b]),
);

const electronCache = new Map<string, Library[]>();

/** Libraries an Electron app ships in its own folder; the vendor signs them (or not). Cached per folder. */
export function electronLibraries(os: Os, folder: string, signature: Signature, vendor: string): Library[] {
  const key = `${os}|${folder}|${vendor}`;
  const cached = electronCache.get(key);
  if (cached) return cached;
  const libs =
    os === "windows"
      ? ["ffmpeg.dll", "d3dcompiler_47.dll", "libEGL.dll", "libGLESv2.dll"].map((n) => {
          // Digests depend on the vendor's build, not on the user's folder.
          const lib = library(
            "windows",
            `${folder}\\${n}`,
            n === "d3dcompiler_47.dll" ? MS_CORP : signature,
            vendor,
          );
          return { ...lib, digests: digestsFor(`${vendor}|${n}`) };
        })
      : [
          {
            ...library(
              "macos",
              `${folder}/Electron Framework.framework/Versions/A/Libraries/libffmpeg.dylib`,
              signature,
              vendor,
            ),
            digests: digestsFor(`${vendor}|libffmpeg.dylib`),
          },
        ];
  if (electronCache.size < 20_000) electronCache.set(key, libs);
  return libs;
}

/** System libraries Defend commonly reports loading on Windows (non-image loads of interest). */
export const WIN_SYSTEM_LIBS: readonly Library[] = [
  "wininet.dll",
  "winhttp.dll",
  "dnsapi.dll",
  "crypt32.dll",
  "bcrypt.dll",
  "ncrypt.dll",
  "samcli.dll",
  "vaultcli.dll",
  "wbemcomn.dll",
  "amsi.dll",
  "mscoree.dll",
  "clr.dll",
  "taskschd.dll",
  "dbghelp.dll",
  "urlmon.dll",
  "webio.dll",
].map((n) => library("windows", `C:\\Windows\\System32\\${n}`, MS_WIN, WIN_VERSION));

export const MAC_SYSTEM_LIBS: readonly Library[] = [
  "/usr/lib/libobjc.A.dylib",
  "/usr/lib/libsqlite3.dylib",
  "/usr/lib/libcurl.4.dylib",
  "/System/Library/Frameworks/Security.framework/Versions/A/Security",
  "/System/Library/Frameworks/Network.framework/Versions/A/Network",
  "/System/Library/Frameworks/CFNetwork.framework/Versions/A/CFNetwork",
].map((p) =>
  library(
    "macos",
    p,
    { subject: "Software Signing", trusted: true, status: "No error.", signingId: "com.apple.lib" },
    "13.2.1",
  ),
);

/** Domains by who talks to them. */
export const DOMAINS = {
  browser: [
    "www.google.com",
    "www.bing.com",
    "www.youtube.com",
    "github.com",
    "stackoverflow.com",
    "learn.microsoft.com",
    "www.linkedin.com",
    "en.wikipedia.org",
    "www.nytimes.com",
    "www.bbc.co.uk",
    "news.ycombinator.com",
    "www.reddit.com",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "www.gstatic.com",
    "ajax.googleapis.com",
    "cdn.jsdelivr.net",
    "www.amazon.com",
    "docs.google.com",
    "drive.google.com",
    "mail.google.com",
    "www.salesforce.com",
    "app.hubspot.com",
    "www.atlassian.com",
    "acme.atlassian.net",
    "www.dropbox.com",
    "a248.e.akamai.net",
    "www.3cx.com",
  ],
  microsoft: [
    "login.microsoftonline.com",
    "outlook.office365.com",
    "outlook.office.com",
    "teams.microsoft.com",
    "presence.teams.microsoft.com",
    "graph.microsoft.com",
    "acme-my.sharepoint.com",
    "oneclient.sfx.ms",
    "g.live.com",
    "settings-win.data.microsoft.com",
    "v10.events.data.microsoft.com",
    "ctldl.windowsupdate.com",
    "fe3cr.delivery.mp.microsoft.com",
    "wdcp.microsoft.com",
    "go.microsoft.com",
    "edge.microsoft.com",
    "msedge.api.cdp.microsoft.com",
  ],
  google: [
    "update.googleapis.com",
    "clients2.google.com",
    "accounts.google.com",
    "safebrowsing.googleapis.com",
  ],
  slack: ["slack.com", "edgeapi.slack.com", "wss-primary.slack.com", "a.slack-edge.com"],
  zoom: ["zoom.us", "us04web.zoom.us", "us05log.zoom.us"],
  discord: ["discord.com", "gateway.discord.gg", "cdn.discordapp.com"],
  signal: ["chat.signal.org", "cdn.signal.org", "updates.signal.org"],
  apple: [
    "gateway.icloud.com",
    "swscan.apple.com",
    "configuration.apple.com",
    "mesu.apple.com",
    "ocsp.apple.com",
    "api.apple-cloudkit.com",
    "gsa.apple.com",
    "xp.apple.com",
  ],
  dev: [
    "github.com",
    "api.github.com",
    "codeload.github.com",
    "objects.githubusercontent.com",
    "registry.npmjs.org",
    "pypi.org",
    "files.pythonhosted.org",
  ],
  elastic: ["acme.es.us-east-1.aws.found.io", "artifacts.security.elastic.co"],
} as const;

/** The simulated company's 3CX PBX (synthetic). */
export const PBX_FQDN = "acme.3cx.eu";

/** Look-alike names that must never match a 3CX C2 indicator (not the domain, not a subdomain of it). */
export const LOOKALIKE_DOMAINS: readonly string[] = [
  "notakamaicontainer.com",
  "akamaicontainer.com.example.net",
  "msstorageazure.com.cdn.cloudflare.net",
  "pbxsources.community",
];

/** Real GitHub addresses (raw.githubusercontent.com is served from these). */
const FIXED_IPS: Readonly<Record<string, readonly string[]>> = {
  "raw.githubusercontent.com": ["185.199.108.133", "185.199.109.133", "185.199.110.133", "185.199.111.133"],
  "github.com": ["140.82.112.3", "140.82.114.4"],
  "api.github.com": ["140.82.112.6"],
  "codeload.github.com": ["140.82.112.10"],
};

/**
 * A stable, plausible public address for a domain: fixed for the few whose addresses are well known,
 * otherwise drawn from a provider-looking range by a hash of the name (synthetic).
 */
export function addressFor(domain: string, which = 0): string {
  const fixed = FIXED_IPS[domain];
  if (fixed) return fixed[which % fixed.length];
  const h = hashString(domain);
  const b = (h >>> 8) & 0xff;
  const c = (h >>> 16) & 0xff;
  const d = 1 + ((h >>> 24) % 253);
  if (/(microsoft|office|live\.com|windowsupdate|sharepoint|sfx\.ms|bing)/.test(domain))
    return `${13 + (h % 2) * 7}.${107 + (b % 100)}.${c}.${d}`;
  if (/(google|youtube|gstatic)/.test(domain)) return `142.250.${c}.${d}`;
  if (/apple|icloud/.test(domain)) return `17.${b % 250}.${c}.${d}`;
  if (/slack|amazon|aws/.test(domain)) return `52.${b % 100}.${c}.${d}`;
  if (/zoom/.test(domain)) return `170.114.${c}.${d}`;
  return `${[104, 151, 185, 198, 45, 91][h % 6]}.${b}.${c}.${d}`;
}

export const FIRST_NAMES: readonly string[] = [
  "james",
  "mary",
  "robert",
  "patricia",
  "john",
  "jennifer",
  "michael",
  "linda",
  "david",
  "elizabeth",
  "william",
  "barbara",
  "richard",
  "susan",
  "joseph",
  "jessica",
  "thomas",
  "sarah",
  "charles",
  "karen",
  "christopher",
  "lisa",
  "daniel",
  "nancy",
  "matthew",
  "betty",
  "anthony",
  "sandra",
  "mark",
  "ashley",
  "donald",
  "kimberly",
  "steven",
  "emily",
  "paul",
  "donna",
  "andrew",
  "michelle",
  "joshua",
  "carol",
  "priya",
  "wei",
  "ahmed",
  "fatima",
  "lukas",
  "sofia",
  "mateo",
  "yuki",
  "olga",
  "kwame",
];

export const LAST_NAMES: readonly string[] = [
  "smith",
  "johnson",
  "williams",
  "brown",
  "jones",
  "garcia",
  "miller",
  "davis",
  "rodriguez",
  "martinez",
  "hernandez",
  "lopez",
  "gonzalez",
  "wilson",
  "anderson",
  "thomas",
  "taylor",
  "moore",
  "jackson",
  "martin",
  "lee",
  "perez",
  "thompson",
  "white",
  "harris",
  "sanchez",
  "clark",
  "ramirez",
  "lewis",
  "robinson",
  "walker",
  "young",
  "allen",
  "king",
  "wright",
  "scott",
  "torres",
  "nguyen",
  "hill",
  "flores",
  "patel",
  "chen",
  "khan",
  "schmidt",
  "rossi",
  "tanaka",
  "ivanova",
  "mensah",
  "novak",
  "kowalski",
];

export const DEPARTMENTS: readonly string[] = [
  "FIN",
  "HR",
  "ENG",
  "OPS",
  "SALES",
  "MKT",
  "LEGAL",
  "IT",
  "SUP",
  "EXEC",
];

/** Document names users open and save. */
export const DOCUMENT_STEMS: readonly string[] = [
  "Q1 forecast",
  "budget 2023",
  "board deck",
  "customer list",
  "meeting notes",
  "project plan",
  "invoice 4471",
  "contract draft",
  "release checklist",
  "travel expenses",
  "onboarding",
  "architecture review",
];
