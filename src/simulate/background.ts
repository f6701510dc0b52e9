/**
 * Ordinary life on a host: logon sessions with their startup apps, web browsing through the proxy, apps
 * talking to their services, short-lived helper processes, file writes and library loads; and, at a low
 * rate, the look-alikes a 3CX hunt must not alert on (git and curl fetching from raw.githubusercontent.com,
 * other Electron apps loading their own ffmpeg.dll, look-alike domains, other software writing a file
 * named `manifest`, a shellcode alert on another program).
 */
import {
  addressFor,
  DOCUMENT_STEMS,
  DOMAINS,
  digestsFor,
  electronLibraries,
  type Library,
  LOOKALIKE_DOMAINS,
  MAC_SYSTEM_LIBS,
  PBX_FQDN,
  WIN_SYSTEM_LIBS,
  winSig,
} from "./catalog.js";
import type { World } from "./engine.js";
import type { HostState, RunningApp, Session } from "./host.js";
import { startThreeCx } from "./infection.js";
import { Weighted } from "./prng.js";
import {
  connection,
  dllJson,
  dnsLookup,
  fileEvent,
  libraryLoad,
  memoryThreatAlert,
  type ProcessView,
  proxyRequest,
  type Render,
} from "./render.js";

const SECOND = 1000;
const MINUTE = 60_000;

/** Which domains each app talks to, and its User-Agent. */
const APP_NETWORK: Readonly<Record<string, { domains: readonly string[]; ua: string }>> = {
  teams: {
    domains: [
      "teams.microsoft.com",
      "presence.teams.microsoft.com",
      "login.microsoftonline.com",
      "graph.microsoft.com",
    ],
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Teams/1.6.00.6754 Chrome/102.0.5005.197 Electron/19.1.8 Safari/537.36",
  },
  outlook: {
    domains: ["outlook.office365.com", "outlook.office.com", "login.microsoftonline.com"],
    ua: "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.16130; Pro)",
  },
  onedrive: {
    domains: ["acme-my.sharepoint.com", "oneclient.sfx.ms", "g.live.com", "login.microsoftonline.com"],
    ua: "Microsoft SkyDriveSync 23.043.0226.0001 ship; Windows NT 10.0 (19045)",
  },
  slack: {
    domains: DOMAINS.slack,
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.31.156 Chrome/110.0.5481.178 Electron/23.1.2 Safari/537.36 Sonic Slack_SSB/4.31.156",
  },
  zoom: { domains: DOMAINS.zoom, ua: "Mozilla/5.0 (ZOOM.Win 10.0 x64)" },
  discord: {
    domains: DOMAINS.discord,
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) discord/1.0.9011 Chrome/108.0.5359.215 Electron/22.3.2 Safari/537.36",
  },
  signal: {
    domains: DOMAINS.signal,
    ua: "Signal-Desktop/6.11.0 Windows 10.0.19045",
  },
  code: {
    domains: ["marketplace.visualstudio.com", "update.code.visualstudio.com", "github.com", "api.github.com"],
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Code/1.76.2 Chrome/102.0.5005.196 Electron/19.1.11 Safari/537.36",
  },
  logioptions: { domains: ["updates.optionsplus.logi.com", "app.logitech.com"], ua: "LogiOptionsPlus/1.36" },
  terminal: { domains: DOMAINS.dev, ua: "curl/7.86.0" },
  "3cx": {
    domains: [PBX_FQDN, "www.3cx.com"],
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) 3CXDesktopApp/18.12.425 Chrome/102.0.5005.167 Electron/19.1.9 Safari/537.36",
  },
};

const MAC_APP_UA: Readonly<Record<string, string>> = {
  slack:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.31.156 Chrome/110.0.5481.178 Electron/23.1.2 Safari/537.36 Sonic Slack_SSB/4.31.156",
  zoom: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) ZoomWebKit/537.36 (KHTML, like Gecko) ZoomApps/1.0",
  teams:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Teams/1.6.00.4472 Chrome/102.0.5005.197 Electron/19.1.8 Safari/537.36",
  outlook: "Microsoft Office/16.0 (Macintosh; Mac OS X 13.2.1; Microsoft Outlook 16.71)",
  terminal: "curl/7.86.0",
};

const BROWSER_UA: Readonly<Record<string, string>> = {
  "windows:chrome":
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/111.0.0.0 Safari/537.36",
  "windows:msedge":
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/111.0.0.0 Safari/537.36 Edg/111.0.1661.54",
  "macos:chrome":
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/111.0.0.0 Safari/537.36",
  "macos:safari":
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.3 Safari/605.1.15",
};

export function browserUserAgent(host: HostState): string {
  return BROWSER_UA[`${host.os}:${host.browserKey}`];
}

/** Electron apps ship their own ffmpeg (a look-alike for the 3CX library hunts). */
const ELECTRON_APPS = new Set(["teams", "slack", "discord", "signal", "code"]);
const MAC_ELECTRON_APPS = new Set(["slack", "teams"]);

const WEB_PATHS: readonly string[] = [
  "/",
  "/search",
  "/favicon.ico",
  "/assets/app.js",
  "/static/css/main.css",
  "/images/logo.png",
  "/api/v1/items",
  "/articles/2023/03/update",
  "/docs/getting-started",
  "/login",
  "/en-us/",
];

// ---- sessions ----

/** A user logs on: shell, startup apps (with their libraries), the browser, and 3CX if installed. */
export function startSession(w: World, host: HostState, t: number, endAt: number): void {
  const r = w.rng;
  let shell: ProcessView;
  if (host.os === "windows") {
    const userinit = w.spawn(
      host,
      w.bin(host, "userinit"),
      t,
      ["C:\\Windows\\system32\\userinit.exe"],
      host.system.get("winlogon"),
    );
    shell = w.spawn(
      host,
      w.bin(host, "explorer"),
      t + r.int(800, 3000),
      ["C:\\Windows\\Explorer.EXE"],
      userinit,
    );
    w.end(host, userinit, t + r.int(4000, 9000));
  } else {
    shell = w.spawn(
      host,
      w.bin(host, "finder"),
      t + r.int(500, 2000),
      ["/System/Library/CoreServices/Finder.app/Contents/MacOS/Finder"],
      host.system.get("launchd"),
    );
  }
  w.end(host, shell, endAt + r.int(1000, 5000));
  const session: Session = { start: t, end: endAt, shell, apps: [] };
  host.session = session;
  const appParent = host.os === "windows" ? shell : host.system.get("launchd");
  for (const key of host.apps) {
    const at = t + r.int(5 * SECOND, 3 * MINUTE);
    session.apps.push(startApp(w, host, key, at, endAt - r.int(0, MINUTE), appParent));
  }
  const browserAt = t + r.int(MINUTE, 30 * MINUTE);
  session.browser = startApp(w, host, host.browserKey, browserAt, endAt - r.int(0, 2 * MINUTE), appParent);
  if (host.threeCx)
    startThreeCx(w, host, t + r.int(8 * SECOND, 40 * SECOND), endAt - r.int(0, MINUTE), appParent);
  w.at(endAt, () => {
    if (host.session === session) host.session = null;
  });
}

function startApp(
  w: World,
  host: HostState,
  key: string,
  t: number,
  endAt: number,
  parent: ProcessView | undefined,
): RunningApp {
  const r = w.rng;
  const binary = w.bin(host, key);
  const exe = host.pathOf(binary);
  const args =
    key === "teams" && host.os === "windows"
      ? [exe, "--system-initiated"]
      : key === "onedrive"
        ? [exe, "/background"]
        : [exe];
  const view = w.spawn(host, binary, t, args, parent);
  let offset = t + r.int(50, 400);
  const electron = host.os === "windows" ? ELECTRON_APPS.has(key) : MAC_ELECTRON_APPS.has(key);
  if (electron) {
    const folder =
      host.os === "windows"
        ? exe.slice(0, exe.lastIndexOf("\\"))
        : exe.slice(0, exe.indexOf("/Contents/") + 9) + "/Frameworks";
    // Signal ships its Electron libraries unsigned: a look-alike for the untrusted-DLL hunt.
    const libSignature = key === "signal" ? winSig("") : binary.signature;
    for (const lib of electronLibraries(host.os, folder, libSignature, `${key}`)) {
      offset += r.int(5, 80);
      w.emitLookalike(offset, host, libraryLoadOf(host, view, lib), "other-app-library");
    }
  }
  const systemLibs = host.os === "windows" ? WIN_SYSTEM_LIBS : MAC_SYSTEM_LIBS;
  for (let i = r.int(1, 3); i > 0; i--) {
    offset += r.int(5, 300);
    w.emit(offset, host, libraryLoadOf(host, view, r.pick(systemLibs)));
  }
  if (key === "chrome" || key === "msedge" || key === "chrome-helper") {
    for (let i = r.int(1, 3); i > 0; i--) {
      const child = w.spawn(
        host,
        binary,
        offset + r.int(100, 2000),
        [exe, "--type=renderer", `--renderer-client-id=${r.int(5, 40)}`, "--lang=en-US"],
        view,
      );
      w.end(host, child, endAt - r.int(0, 5 * SECOND));
    }
  }
  w.end(host, view, endAt);
  return { key, view, endAt };
}

const libraryJsonCache = new Map<string, string>();

/** A library load; a library's JSON is rendered once per path (bounded cache) and shared. */
function libraryLoadOf(host: HostState, view: ProcessView, lib: Library): Render {
  let json = libraryJsonCache.get(lib.path);
  if (json === undefined) {
    json = dllJson(lib, host.os);
    if (libraryJsonCache.size < 10_000) libraryJsonCache.set(lib.path, json);
  }
  return libraryLoad(host.identity, view, json);
}

// ---- activities ----

type Kind =
  | "browse"
  | "appNetwork"
  | "shortProcess"
  | "file"
  | "library"
  | "gitRaw"
  | "lookalikeDomain"
  | "manifestWriter"
  | "otherMemoryAlert";

const SESSION_KINDS = new Weighted<Kind>([
  ["browse", 30],
  ["appNetwork", 18],
  ["shortProcess", 22],
  ["file", 18],
  ["library", 6],
  ["gitRaw", 1.2],
  ["lookalikeDomain", 0.8],
  ["manifestWriter", 0.6],
  ["otherMemoryAlert", 0.08],
]);

type SystemKind = "systemNetwork" | "systemProcess" | "systemFile";
const SYSTEM_KINDS = new Weighted<SystemKind>([
  ["systemNetwork", 50],
  ["systemProcess", 40],
  ["systemFile", 10],
]);

/** Intensity outside a user session (system activity only), relative to working hours. */
export const IDLE_INTENSITY = 0.15;

/** One background activity, then the next one scheduled (thinned: fewer when nobody is logged on). */
export function activity(w: World, host: HostState): void {
  const t = w.now;
  const next = t + w.nextActivityGap();
  if (next < w.endMs) w.at(next, host.activityTask);
  const r = w.rng;
  const session = host.session;
  if (session === null) {
    if (r.float() >= IDLE_INTENSITY) return;
    systemActivity(w, host, t, SYSTEM_KINDS.pick(r));
    return;
  }
  switch (SESSION_KINDS.pick(r)) {
    case "browse":
      browse(w, host, session, t);
      return;
    case "appNetwork":
      appNetwork(w, host, session, t);
      return;
    case "shortProcess":
      shortProcess(w, host, session, t);
      return;
    case "file":
      userFile(w, host, session, t);
      return;
    case "library":
      libraryActivity(w, host, session, t);
      return;
    case "gitRaw":
      gitRaw(w, host, session, t);
      return;
    case "lookalikeDomain":
      lookalikeDomain(w, host, session, t);
      return;
    case "manifestWriter":
      manifestWriter(w, host, session, t);
      return;
    case "otherMemoryAlert":
      otherMemoryAlert(w, host, session, t);
      return;
  }
}

function running(app: RunningApp | undefined, t: number): app is RunningApp {
  return app !== undefined && app.endAt > t && app.view.pid > 0;
}

/** DNS (unless cached), connection, and the requests the proxy logs. */
function webExchange(
  w: World,
  host: HostState,
  view: ProcessView,
  t: number,
  domain: string,
  ua: string,
  requests: number,
  lookalike?: string,
): number {
  const r = w.rng;
  const ip = addressFor(domain, r.int(0, 3));
  const mark = (at: number, render: ReturnType<typeof connection>) =>
    lookalike ? w.emitLookalike(at, host, render, lookalike) : w.emit(at, host, render);
  if (lookalike || r.chance(0.55)) mark(t, dnsLookup(host.identity, view, domain, [ip]));
  t += r.int(3, 40);
  mark(t, connection(host.identity, view, ip, 443, host.nextPort()));
  for (let i = 0; i < requests; i++) {
    t += r.int(20, 900);
    const path = r.pick(WEB_PATHS);
    const method = r.chance(0.85) ? "GET" : "POST";
    mark(
      t,
      proxyRequest(host.identity, {
        method,
        url: `https://${domain}${path}`,
        userAgent: ua,
        status: r.chance(0.95) ? 200 : r.pick([204, 301, 304, 404]),
        requestBytes: r.int(300, method === "POST" ? 9000 : 1500),
        responseBytes: r.int(200, 250_000),
        destination: ip,
        contentType: path.endsWith(".ico")
          ? "image/x-icon"
          : path.endsWith(".js")
            ? "application/javascript"
            : "text/html",
      }),
    );
  }
  return t;
}

function browse(w: World, host: HostState, session: Session, t: number): void {
  const r = w.rng;
  const browser = session.browser;
  if (!running(browser, t)) {
    appNetwork(w, host, session, t);
    return;
  }
  const pool =
    host.developer && r.chance(0.35) ? DOMAINS.dev : r.chance(0.15) ? DOMAINS.google : DOMAINS.browser;
  const domain = r.pick(pool);
  const end = webExchange(w, host, browser.view, t, domain, browserUserAgent(host), r.int(1, 3));
  if (r.chance(0.04)) {
    const stem = r.pick(DOCUMENT_STEMS);
    const ext = r.pick(["pdf", "docx", "xlsx", "zip", "png"]);
    const sep = host.os === "windows" ? "\\" : "/";
    const path = `${host.home}${sep}Downloads${sep}${stem}${r.chance(0.3) ? ` (${r.int(1, 4)})` : ""}.${ext}`;
    w.emit(
      end + r.int(200, 4000),
      host,
      fileEvent(
        host.identity,
        browser.view,
        "creation",
        path,
        r.int(20_000, 8_000_000),
        digestsFor(`${path}|${t}`),
      ),
    );
  }
}

function appNetwork(w: World, host: HostState, session: Session, t: number): void {
  const r = w.rng;
  const candidates = session.apps.filter((a) => running(a, t) && APP_NETWORK[a.key] !== undefined);
  if (candidates.length === 0) {
    systemActivity(w, host, t, "systemNetwork");
    return;
  }
  const app = r.pick(candidates);
  const spec = APP_NETWORK[app.key];
  const ua = host.os === "macos" ? (MAC_APP_UA[app.key] ?? spec.ua) : spec.ua;
  webExchange(w, host, app.view, t, r.pick(spec.domains), ua, r.chance(0.4) ? 1 : 0);
}

interface SpawnTemplate {
  readonly parent: string;
  readonly child: string;
  readonly args: (host: HostState, exe: string, w: World) => string[];
  readonly system?: boolean;
  readonly minMs: number;
  readonly maxMs: number;
  readonly libs: number;
}

const WIN_USER_SPAWNS: readonly SpawnTemplate[] = [
  {
    parent: "svchost",
    child: "runtimebroker",
    args: (_h, e) => [e, "-Embedding"],
    minMs: 2000,
    maxMs: 600_000,
    libs: 1,
  },
  { parent: "svchost", child: "taskhostw", args: (_h, e) => [e], minMs: 1000, maxMs: 120_000, libs: 1 },
  {
    parent: "svchost",
    child: "backgroundtaskhost",
    args: (_h, e, w) => [e, `-ServerName:App.AppX${w.rng.hex(8)}.mca`],
    minMs: 500,
    maxMs: 30_000,
    libs: 1,
  },
  {
    parent: "svchost",
    child: "dllhost",
    args: (_h, e, w) => [
      e,
      `/Processid:{${w.rng.hex(8).toUpperCase()}-${w.rng.hex(4).toUpperCase()}-4E0B-${w.rng.hex(4).toUpperCase()}-${w.rng.hex(12).toUpperCase()}}`,
    ],
    minMs: 500,
    maxMs: 60_000,
    libs: 2,
  },
  {
    parent: "searchindexer",
    child: "searchprotocolhost",
    args: (_h, e) => [
      e,
      "Global\\UsGthrFltPipeMssGthrPipe7_",
      "Global\\UsGthrCtrlFltPipeMssGthrPipe7",
      "1",
      "-2147483646",
      "Software\\Microsoft\\Windows Search",
    ],
    system: true,
    minMs: 5000,
    maxMs: 180_000,
    libs: 0,
  },
  {
    parent: "searchindexer",
    child: "searchfilterhost",
    args: (_h, e) => [e, "0", "820", "824", "832", "8192", "836", "808"],
    system: true,
    minMs: 5000,
    maxMs: 180_000,
    libs: 0,
  },
  {
    parent: "explorer",
    child: "notepad",
    args: (h, e, w) => [e, `${h.home}\\Documents\\${w.rng.pick(DOCUMENT_STEMS)}.txt`],
    minMs: 20_000,
    maxMs: 1_800_000,
    libs: 1,
  },
  {
    parent: "explorer",
    child: "winword",
    args: (h, e, w) => [e, "/n", `${h.home}\\Documents\\${w.rng.pick(DOCUMENT_STEMS)}.docx`],
    minMs: 60_000,
    maxMs: 3_600_000,
    libs: 3,
  },
  {
    parent: "explorer",
    child: "excel",
    args: (h, e, w) => [e, `${h.home}\\Documents\\${w.rng.pick(DOCUMENT_STEMS)}.xlsx`],
    minMs: 60_000,
    maxMs: 3_600_000,
    libs: 3,
  },
  {
    parent: "explorer",
    child: "powerpnt",
    args: (h, e, w) => [e, `${h.home}\\Documents\\${w.rng.pick(DOCUMENT_STEMS)}.pptx`],
    minMs: 60_000,
    maxMs: 3_600_000,
    libs: 3,
  },
  {
    parent: "explorer",
    child: "acrobat",
    args: (h, e, w) => [e, `${h.home}\\Downloads\\${w.rng.pick(DOCUMENT_STEMS)}.pdf`],
    minMs: 30_000,
    maxMs: 1_800_000,
    libs: 2,
  },
  {
    parent: "msmpeng",
    child: "mpcmdrun",
    args: (_h, e) => [e, "-wdenable"],
    system: true,
    minMs: 500,
    maxMs: 20_000,
    libs: 1,
  },
  {
    parent: "svchost",
    child: "wermgr",
    args: (_h, e, w) =>
      [e, "-upload"].concat(w.rng.chance(0.5) ? [] : ["-outproc", "0", String(w.rng.int(1000, 9000))]),
    system: true,
    minMs: 500,
    maxMs: 20_000,
    libs: 1,
  },
  {
    parent: "explorer",
    child: "smartscreen",
    args: (_h, e) => [e, "-Embedding"],
    minMs: 500,
    maxMs: 30_000,
    libs: 1,
  },
];

const WIN_ADMIN_SPAWNS: readonly SpawnTemplate[] = [
  { parent: "explorer", child: "cmd", args: (_h, e) => [e], minMs: 30_000, maxMs: 1_200_000, libs: 0 },
  {
    parent: "explorer",
    child: "powershell",
    args: (_h, e) => [e, "-NoLogo"],
    minMs: 30_000,
    maxMs: 1_200_000,
    libs: 2,
  },
  {
    parent: "explorer",
    child: "mstsc",
    args: (_h, e, w) => [e, `/v:srv-app-${w.rng.int(1, 40)}.acme.local`],
    minMs: 60_000,
    maxMs: 3_600_000,
    libs: 1,
  },
];

const MAC_SPAWNS: readonly SpawnTemplate[] = [
  {
    parent: "launchd",
    child: "mdworker",
    args: (_h, e) => [e, "-s", "mdworker", "-c", "MDSImporterWorker", "-m", "com.apple.mdworker.shared"],
    system: true,
    minMs: 2000,
    maxMs: 60_000,
    libs: 0,
  },
  {
    parent: "launchd",
    child: "xpcproxy",
    args: (_h, e, w) => [
      e,
      w.rng.pick([
        "com.apple.Safari.History",
        "com.apple.quicklook.ThumbnailsAgent",
        "com.apple.photoanalysisd",
        "com.apple.CommCenter",
      ]),
    ],
    system: true,
    minMs: 50,
    maxMs: 500,
    libs: 0,
  },
];

const MAC_DEV_SPAWNS: readonly SpawnTemplate[] = [
  { parent: "terminal", child: "zsh", args: (_h, e) => [e, "-il"], minMs: 60_000, maxMs: 3_600_000, libs: 0 },
  {
    parent: "terminal",
    child: "git",
    args: (_h, e, w) => [e, w.rng.pick(["status", "pull", "log", "diff", "push"])],
    minMs: 100,
    maxMs: 8000,
    libs: 1,
  },
  {
    parent: "terminal",
    child: "python3",
    args: (_h, e, w) => [e, w.rng.pick(["manage.py", "-m", "scripts/report.py"]), "runserver"],
    minMs: 5000,
    maxMs: 900_000,
    libs: 1,
  },
  { parent: "terminal", child: "brew", args: (_h, e) => [e, "update"], minMs: 5000, maxMs: 60_000, libs: 0 },
];

function findProcess(host: HostState, session: Session, key: string): ProcessView | undefined {
  if (key === "explorer" || key === "finder") return session.shell;
  const sys = host.system.get(key);
  if (sys) return sys;
  return session.apps.find((a) => a.key === key)?.view;
}

function shortProcess(w: World, host: HostState, session: Session, t: number): void {
  const r = w.rng;
  let pool: readonly SpawnTemplate[];
  if (host.os === "windows") pool = host.developer && r.chance(0.25) ? WIN_ADMIN_SPAWNS : WIN_USER_SPAWNS;
  else pool = host.developer && r.chance(0.5) && host.apps.includes("terminal") ? MAC_DEV_SPAWNS : MAC_SPAWNS;
  const tpl = r.pick(pool);
  const parent = findProcess(host, session, tpl.parent) ?? session.shell;
  spawnShort(w, host, tpl, parent, t);
}

function spawnShort(w: World, host: HostState, tpl: SpawnTemplate, parent: ProcessView, t: number): void {
  const r = w.rng;
  const binary = w.bin(host, tpl.child);
  const exe = host.pathOf(binary);
  const view = w.spawn(host, binary, t, tpl.args(host, exe, w), parent, { system: tpl.system });
  let at = t;
  if (host.os === "windows" && (tpl.child === "cmd" || tpl.child === "powershell")) {
    const conhost = w.spawn(
      host,
      w.bin(host, "conhost"),
      t + r.int(5, 40),
      ["\\??\\C:\\Windows\\system32\\conhost.exe", "0xffffffff", "-ForceV1"],
      view,
    );
    w.end(host, conhost, t + r.int(tpl.minMs, tpl.maxMs) + 50);
    for (let i = r.int(0, 3); i > 0; i--) {
      const tool = r.pick(["ipconfig", "tasklist", "whoami", "systeminfo", "git", "python"]);
      if ((tool === "git" || tool === "python") && !host.developer) continue;
      at += r.int(2000, 60_000);
      const b = w.bin(host, tool);
      const args =
        tool === "ipconfig"
          ? [b.name, "/all"]
          : tool === "git"
            ? [b.name, r.pick(["status", "pull", "fetch", "log"])]
            : tool === "python"
              ? [b.name, "-m", "pip", "list"]
              : [b.name];
      const child = w.spawn(host, b, at, args, view);
      w.end(host, child, at + r.int(100, 5000));
    }
  }
  const systemLibs = host.os === "windows" ? WIN_SYSTEM_LIBS : MAC_SYSTEM_LIBS;
  for (let i = 0; i < tpl.libs; i++)
    w.emit(t + r.int(10, 600), host, libraryLoadOf(host, view, r.pick(systemLibs)));
  const endAt = t + r.int(tpl.minMs, tpl.maxMs);
  if (tpl.child === "winword" || tpl.child === "excel" || tpl.child === "powerpnt") {
    const ext = tpl.child === "winword" ? "docx" : tpl.child === "excel" ? "xlsx" : "pptx";
    const stem = r.pick(DOCUMENT_STEMS);
    const save = t + r.int(10_000, Math.max(10_001, endAt - t - 1000));
    w.emit(
      save,
      host,
      fileEvent(host.identity, view, "creation", `${host.home}\\Documents\\~$${stem}.${ext}`, 162),
    );
    w.emit(
      save + r.int(100, 2000),
      host,
      fileEvent(
        host.identity,
        view,
        "overwrite",
        `${host.home}\\Documents\\${stem}.${ext}`,
        r.int(15_000, 3_000_000),
      ),
    );
    w.emit(
      endAt - r.int(10, 500),
      host,
      fileEvent(host.identity, view, "deletion", `${host.home}\\Documents\\~$${stem}.${ext}`, 162),
    );
  }
  w.end(host, view, endAt);
}

function userFile(w: World, host: HostState, session: Session, t: number): void {
  const r = w.rng;
  const apps = session.apps.filter((a) => running(a, t) && a.key !== "3cx");
  const writer =
    apps.length > 0 && r.chance(0.7)
      ? r.pick(apps)
      : session.browser && running(session.browser, t)
        ? session.browser
        : undefined;
  if (!writer) return;
  const win = host.os === "windows";
  let path: string;
  switch (writer.key) {
    case "onedrive":
      path = `${host.home}\\OneDrive - Acme\\${r.pick(DOCUMENT_STEMS)}.${r.pick(["docx", "xlsx", "pptx", "pdf"])}`;
      break;
    case "teams":
      path = win
        ? `${host.home}\\AppData\\Roaming\\Microsoft\\Teams\\logs.txt`
        : `${host.home}/Library/Application Support/Microsoft/Teams/logs.txt`;
      break;
    case "outlook":
      path = win
        ? `${host.home}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\${r.hex(8).toUpperCase()}\\${r.pick(DOCUMENT_STEMS)}.${r.pick(["pdf", "docx", "xlsx"])}`
        : `${host.home}/Library/Containers/com.microsoft.Outlook/Data/tmp/${r.pick(DOCUMENT_STEMS)}.pdf`;
      break;
    default:
      path = win
        ? `${host.home}\\AppData\\Local\\Temp\\${r.hex(8)}.tmp`
        : `${host.home}/Library/Caches/${writer.key}/${r.hex(12)}`;
  }
  const action = r.chance(0.6) ? "creation" : "overwrite";
  w.emit(t, host, fileEvent(host.identity, writer.view, action, path, r.int(100, 2_000_000)));
  if (path.endsWith(".tmp"))
    w.emit(t + r.int(200, 120_000), host, fileEvent(host.identity, writer.view, "deletion", path, 0));
}

function libraryActivity(w: World, host: HostState, session: Session, t: number): void {
  const r = w.rng;
  const apps = session.apps.filter((a) => running(a, t));
  if (apps.length === 0) return;
  const app = r.pick(apps);
  const systemLibs = host.os === "windows" ? WIN_SYSTEM_LIBS : MAC_SYSTEM_LIBS;
  w.emit(t, host, libraryLoadOf(host, app.view, r.pick(systemLibs)));
}

function systemActivity(w: World, host: HostState, t: number, kind: SystemKind): void {
  const r = w.rng;
  const win = host.os === "windows";
  switch (kind) {
    case "systemNetwork": {
      const key = win
        ? r.pick(["svchost", "svchost", "msmpeng", "edgeupdate", "endpoint"])
        : r.pick(["nsurlsessiond", "trustd", "cloudd", "softwareupdated", "endpoint"]);
      const view = host.system.get(key);
      if (!view) return;
      const domain =
        key === "endpoint"
          ? r.pick(DOMAINS.elastic)
          : win
            ? r.pick(DOMAINS.microsoft)
            : r.pick(DOMAINS.apple);
      const ip = addressFor(domain);
      if (r.chance(0.6)) w.emit(t, host, dnsLookup(host.identity, view, domain, [ip]));
      w.emit(t + r.int(3, 50), host, connection(host.identity, view, ip, 443, host.nextPort()));
      return;
    }
    case "systemProcess": {
      const pool = win ? WIN_USER_SPAWNS.filter((s) => s.system || s.parent === "svchost") : MAC_SPAWNS;
      const tpl = r.pick(pool);
      const parent = host.system.get(tpl.parent) ?? host.system.get(win ? "services" : "launchd");
      if (!parent) return;
      spawnShort(w, host, { ...tpl, system: true }, parent, t);
      return;
    }
    case "systemFile": {
      const view = host.system.get(win ? "msmpeng" : "softwareupdated");
      if (!view) return;
      const path = win
        ? `C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\Service\\DetectionHistory\\${r.hex(2)}\\${r.hex(32).toUpperCase()}`
        : `/Library/Updates/${r.hex(8)}.tmp`;
      w.emit(
        t,
        host,
        fileEvent(host.identity, view, r.chance(0.5) ? "creation" : "overwrite", path, r.int(200, 40_000)),
      );
      return;
    }
  }
}

// ---- look-alikes ----

const GIT_REPOS: readonly string[] = [
  "microsoft/vscode/main/README.md",
  "nodejs/node/main/BUILDING.md",
  "ohmyzsh/ohmyzsh/master/tools/install.sh",
  "Homebrew/install/HEAD/install.sh",
  "github/gitignore/main/Node.gitignore",
  "acme-corp/infra/main/scripts/bootstrap.ps1",
  "elastic/detection-rules/main/README.md",
];

/** git / curl on a developer machine fetching from raw.githubusercontent.com. */
function gitRaw(w: World, host: HostState, session: Session, t: number): void {
  const r = w.rng;
  if (!host.developer) {
    lookalikeDomain(w, host, session, t);
    return;
  }
  const win = host.os === "windows";
  const useCurl = r.chance(0.4);
  const parent = win
    ? (findProcess(host, session, "code") ?? session.shell)
    : (findProcess(host, session, "terminal") ?? session.shell);
  const file = r.pick(GIT_REPOS);
  const url = `https://raw.githubusercontent.com/${file}`;
  const binary = w.bin(host, useCurl ? "curl" : "git");
  const args = useCurl
    ? [win ? "curl.exe" : "curl", "-fsSL", url]
    : [win ? "git.exe" : "git", "fetch", "origin"];
  const view = w.spawn(host, binary, t, args, parent, { lookalike: "git-raw-github" });
  let actor = view;
  let at = t + r.int(20, 200);
  if (!useCurl && win) {
    actor = w.spawn(
      host,
      w.bin(host, "git-remote-https"),
      at,
      ["git-remote-https.exe", "origin", "https://github.com/acme-corp/infra.git"],
      view,
      { lookalike: "git-raw-github" },
    );
    at += r.int(10, 50);
  }
  const ua = useCurl
    ? win
      ? "curl/7.83.1"
      : "curl/7.86.0"
    : win
      ? "git/2.40.0.windows.1"
      : "git/2.37.1 (Apple Git-137.1)";
  at = webExchange(w, host, actor, at, "raw.githubusercontent.com", ua, 1, "git-raw-github");
  if (actor !== view) w.end(host, actor, at + r.int(50, 500));
  w.end(host, view, at + r.int(100, 1000));
}

/** A browser visiting a name that merely resembles a C2 domain. */
function lookalikeDomain(w: World, host: HostState, session: Session, t: number): void {
  const r = w.rng;
  const browser = session.browser;
  if (!running(browser, t)) return;
  webExchange(
    w,
    host,
    browser.view,
    t,
    r.pick(LOOKALIKE_DOMAINS),
    browserUserAgent(host),
    1,
    "lookalike-domain",
  );
}

/** Other software writing a file named `manifest` (outside the 3CX app folder). */
function manifestWriter(w: World, host: HostState, session: Session, t: number): void {
  const r = w.rng;
  const apps = session.apps.filter((a) => running(a, t) && a.key !== "3cx");
  const writer =
    apps.find((a) => a.key === "teams" || a.key === "slack" || a.key === "code") ??
    (apps.length > 0 ? apps[0] : undefined);
  if (!writer) return;
  const path =
    host.os === "windows"
      ? writer.key === "code"
        ? `${host.home}\\.vscode\\extensions\\ms-python.python-2023.4.1\\manifest`
        : `${host.home}\\AppData\\Roaming\\Microsoft\\Teams\\Service Worker\\CacheStorage\\${r.hex(40)}\\manifest`
      : `${host.home}/Library/Application Support/Slack/Service Worker/CacheStorage/${r.hex(40)}/manifest`;
  w.emitLookalike(
    t,
    host,
    fileEvent(host.identity, writer.view, "creation", path, r.int(100, 4000)),
    "manifest-other-software",
  );
}

/** A shellcode-thread alert on software that is not 3CX (JIT-heavy or hooking software trips it). */
function otherMemoryAlert(w: World, host: HostState, session: Session, t: number): void {
  const app = session.apps.find((a) => a.key === "logioptions" && running(a, t));
  if (!app) return;
  w.emitLookalike(
    t,
    host,
    memoryThreatAlert(host.identity, app.view, false, 65536, w.rng.hex(64)),
    "memory-alert-other-software",
  );
}
