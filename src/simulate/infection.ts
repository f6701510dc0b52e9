/**
 * 3CX on a host, clean or trojanised, and the attack chain that follows a trojanised install, on the
 * published timeline (FACTS.md §1-§6):
 *
 * Windows: MSI downloaded (real hash) -> msiexec writes 3CXDesktopApp.exe, ffmpeg.dll, d3dcompiler_47.dll ->
 * 3CXDesktopApp.exe starts and loads both DLLs -> `manifest` written next to them with a time ~7 days
 * ahead -> when the timer expires (and the app is running): Defend's shellcode alert, the IconStorages
 * `.ico` fetched from raw.githubusercontent.com, the C2 URL it hides contacted by POST every 20-40 min,
 * stolen data posted once, and on some hosts hands-on-keyboard children of 3CXDesktopApp.exe.
 *
 * macOS: DMG downloaded (real hash) -> app copied to /Applications -> app starts, loads libffmpeg.dylib,
 * writes `.main_storage` and `.session-lock` -> beacons -> writes `UpdateAgent`, runs it through `sh -c`,
 * UpdateAgent POSTs to sbmsa.wiki and deletes itself.
 *
 * Every event of a chain carries a role that the truth file records under the event's id.
 */
import { browserUserAgent } from "./background.js";
import {
  addressFor,
  type Binary,
  binary,
  type Digests,
  digestsFor,
  type Library,
  macSig,
  PBX_FQDN,
  type Signature,
  winSig,
} from "./catalog.js";
import type { World } from "./engine.js";
import type {
  HostState,
  Infection,
  InstalledLibrary,
  RunningApp,
  ThreeCxInstall,
  VariantName,
} from "./host.js";
import type { Random } from "./prng.js";
import {
  connection,
  dllJson,
  dnsLookup,
  fileEvent,
  libraryLoad,
  memoryThreatAlert,
  type ProcessView,
  proxyRequest,
} from "./render.js";
import {
  BEACON_MAX_SECONDS,
  BEACON_MIN_SECONDS,
  CLEAN_3CX_VERSION,
  D3DCOMPILER_MD5,
  D3DCOMPILER_SHA1,
  D3DCOMPILER_SHA256,
  ICON_C2_URLS,
  ICON_SIZES,
  ICON_URL_PREFIX,
  type InstallerBuild,
  MACOS_BUNDLE_ID,
  MACOS_C2_DOMAINS,
  MACOS_C2_USER_AGENT,
  MACOS_SIGNER,
  MACOS_TEAM_ID,
  PRE_COMPROMISE_3CX_VERSION,
  SBMSA_URL,
  TIMER_JITTER_MAX_SECONDS,
  TIMER_SECONDS,
  TROJANISED_BUILDS,
  UPDATE_AGENT_SHA256,
  UPDATE_AGENT_SIGNING_ID,
  WINDOWS_C2_USER_AGENT,
  WINDOWS_SIGNER,
} from "./threat.js";

const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const WIN_APP_DIR = "{home}\\AppData\\Local\\Programs\\3CXDesktopApp\\app";
const MAC_APP = "/Applications/3CX Desktop App.app";
const MAC_SUPPORT_DIR = "{home}/Library/Application Support/3CX Desktop App";
const DOWNLOAD_HOST = "downloads-global.3cx.com";
/** 3CX's update feed path as Sigma's update rule matches it (`/electron/update/win32/18.12`); host synthetic. */
const UPDATE_FEED = `https://${DOWNLOAD_HOST}/downloads/electron/update/win32`;
/** Squirrel's full package of 18.12.416, labelled by signature-base `[SB]`. */
const NUPKG_416_SHA256 = "7c55c3dfa373b6b342390938029cb76ef31f609d9a07780772c6010a4297e321";
const UPDATE_AGENT_SHA1 = "9e9a5f8d86356796162cee881c843cde9eaedfb3";

const WIN_3CX_SIG = winSig(WINDOWS_SIGNER);
const MAC_3CX_SIG = macSig(MACOS_SIGNER, MACOS_TEAM_ID, MACOS_BUNDLE_ID);

const CLIENT_WIN: Binary = binary("windows", {
  key: "3cx",
  path: `${WIN_APP_DIR}\\3CXDesktopApp.exe`,
  signature: WIN_3CX_SIG,
  version: CLEAN_3CX_VERSION,
  product: "3CX Desktop App",
  company: "3CX",
  description: "3CX Desktop App",
});
const UPDATE_WIN: Binary = binary("windows", {
  key: "3cx-update",
  path: `${WIN_APP_DIR}\\update.exe`,
  signature: WIN_3CX_SIG,
  version: "1.5.2",
  product: "Squirrel",
  company: "3CX",
  description: "Squirrel updater",
});
const CLIENT_MAC: Binary = binary("macos", {
  key: "3cx",
  path: `${MAC_APP}/Contents/MacOS/3CX Desktop App`,
  signature: MAC_3CX_SIG,
  version: CLEAN_3CX_VERSION,
});
const UPDATE_AGENT: Binary = binary("macos", {
  key: "updateagent",
  path: `${MAC_SUPPORT_DIR}/UpdateAgent`,
  // Ad-hoc signed: an identifier but no certificate, so not trusted `[PW]`.
  signature: { subject: "", trusted: false, status: "No error.", signingId: UPDATE_AGENT_SIGNING_ID },
  version: "1",
});

// ---- installs ----

function installedLibrary(
  lib: Library,
  digests: Digests,
  signature: Signature,
  os: "windows" | "macos",
  role?: string,
): InstalledLibrary {
  return { library: lib, digests, signature, role, json: dllJson(lib, os, digests, signature) };
}

function lib(path: string, os: "windows" | "macos"): Library {
  const sep = os === "windows" ? "\\" : "/";
  return {
    name: path.slice(path.lastIndexOf(sep) + 1),
    path,
    signature: winSig(""),
    digests: { sha256: "" },
  };
}

/** A genuine 3CX build: every file signed, stand-in hashes. */
function cleanInstall(host: HostState, version: string): ThreeCxInstall {
  if (host.os === "windows") {
    const dir = WIN_APP_DIR.replace("{home}", host.home);
    const libs = ["ffmpeg.dll", "d3dcompiler_47.dll", "libEGL.dll", "libGLESv2.dll"].map((n) =>
      installedLibrary(
        lib(`${dir}\\${n}`, "windows"),
        digestsFor(`3cx|${version}|${n}`),
        n === "d3dcompiler_47.dll" ? winSig("Microsoft Corporation") : WIN_3CX_SIG,
        "windows",
      ),
    );
    return {
      version,
      build: "clean",
      clientDigests: digestsFor(`3cx|${version}|3CXDesktopApp.exe`),
      clientSignature: WIN_3CX_SIG,
      libraries: libs,
    };
  }
  const path = `${MAC_APP}/Contents/Frameworks/Electron Framework.framework/Versions/A/Libraries/libffmpeg.dylib`;
  return {
    version,
    build: "clean",
    clientDigests: digestsFor(`3cx|${version}|mac-client`),
    clientSignature: MAC_3CX_SIG,
    libraries: [
      installedLibrary(
        lib(path, "macos"),
        digestsFor(`3cx|${version}|libffmpeg.dylib`),
        MAC_3CX_SIG,
        "macos",
      ),
    ],
  };
}

/** A published trojanised build: real hashes of the client and the backdoored libraries. */
function trojanisedInstall(host: HostState, build: InstallerBuild): ThreeCxInstall {
  if (host.os === "windows") {
    const dir = WIN_APP_DIR.replace("{home}", host.home);
    const ffmpegDigests: Digests =
      build.librarySha256 === "7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896"
        ? {
            md5: "74bc2d0b6680faa1a5a76b27e5479cbc",
            sha1: "bf939c9c261d27ee7bb92325cc588624fca75429",
            sha256: build.librarySha256,
          }
        : { sha256: build.librarySha256 };
    return {
      version: build.version,
      build: "trojanised",
      clientDigests: { sha256: build.clientSha256 },
      clientSignature: WIN_3CX_SIG,
      libraries: [
        installedLibrary(
          lib(`${dir}\\ffmpeg.dll`, "windows"),
          ffmpegDigests,
          build.librarySigned ? WIN_3CX_SIG : winSig(""),
          "windows",
          "ffmpeg-load",
        ),
        // The carrier keeps Microsoft's valid signature (the payload sits in the signature padding) `[RL]`.
        installedLibrary(
          lib(`${dir}\\d3dcompiler_47.dll`, "windows"),
          { md5: D3DCOMPILER_MD5, sha1: D3DCOMPILER_SHA1, sha256: D3DCOMPILER_SHA256 },
          winSig("Microsoft Corporation"),
          "windows",
          "d3dcompiler-load",
        ),
        installedLibrary(
          lib(`${dir}\\libEGL.dll`, "windows"),
          digestsFor(`3cx|${build.version}|libEGL.dll`),
          WIN_3CX_SIG,
          "windows",
        ),
        installedLibrary(
          lib(`${dir}\\libGLESv2.dll`, "windows"),
          digestsFor(`3cx|${build.version}|libGLESv2.dll`),
          WIN_3CX_SIG,
          "windows",
        ),
      ],
    };
  }
  const path = `${MAC_APP}/Contents/Frameworks/Electron Framework.framework/Versions/A/Libraries/libffmpeg.dylib`;
  const libDigests: Digests =
    build.librarySha256 === "a64fa9f1c76457ecc58402142a8728ce34ccba378c17318b3340083eeb7acc67"
      ? {
          md5: "660ea9b8205fbd2da59fefd26ae5115c",
          sha1: "769383fc65d1386dd141c960c9970114547da0c2",
          sha256: build.librarySha256,
        }
      : { sha256: build.librarySha256 };
  return {
    version: build.version,
    build: "trojanised",
    clientDigests: { sha256: build.clientSha256 },
    clientSignature: MAC_3CX_SIG,
    libraries: [installedLibrary(lib(path, "macos"), libDigests, MAC_3CX_SIG, "macos", "libffmpeg-load")],
  };
}

/** A malicious build nobody has published hashes for: unsigned ffmpeg.dll, re-padded d3dcompiler_47.dll. */
function unknownInstall(w: World, host: HostState): ThreeCxInstall {
  const dir = WIN_APP_DIR.replace("{home}", host.home);
  const key = `unknown-build|${w.seed}`;
  return {
    version: "18.12.416",
    build: "unknown",
    clientDigests: digestsFor(`${key}|3CXDesktopApp.exe`),
    clientSignature: WIN_3CX_SIG,
    libraries: [
      installedLibrary(
        lib(`${dir}\\ffmpeg.dll`, "windows"),
        digestsFor(`${key}|ffmpeg.dll`),
        winSig(""),
        "windows",
        "ffmpeg-load",
      ),
      installedLibrary(
        lib(`${dir}\\d3dcompiler_47.dll`, "windows"),
        digestsFor(`${key}|d3dcompiler_47.dll`),
        winSig("Microsoft Corporation"),
        "windows",
        "d3dcompiler-load",
      ),
      installedLibrary(
        lib(`${dir}\\libEGL.dll`, "windows"),
        digestsFor(`3cx|18.12.416|libEGL.dll`),
        WIN_3CX_SIG,
        "windows",
      ),
      installedLibrary(
        lib(`${dir}\\libGLESv2.dll`, "windows"),
        digestsFor(`3cx|18.12.416|libGLESv2.dll`),
        WIN_3CX_SIG,
        "windows",
      ),
    ],
  };
}

// ---- planning ----

/**
 * Decide when this host's infection starts and schedule its first step. Returns the first step's day
 * (relative to the window's start; negative when the chain began before the window, which happens when the
 * window is too short to hold the 7-day timer).
 */
export function planInfection(w: World, host: HostState, variant: VariantName, r: Random): number {
  const days = (w.endMs - w.startMs) / DAY;
  const windowsBuilds = TROJANISED_BUILDS.filter((b) => b.os === "windows");
  const macBuilds = TROJANISED_BUILDS.filter((b) => b.os === "macos");
  const build =
    variant === "unknown-dll" ? undefined : r.pick(host.os === "windows" ? windowsBuilds : macBuilds);
  // Beacons must fall inside the part of the window that is written even when an events/bytes budget cuts
  // the last few percent (index.ts HEADROOM): the first 88% of the window.
  const usable = 0.88 * days;
  let day: number;
  switch (variant) {
    case "windows-full":
    case "unknown-dll": {
      const latest = usable - 8.5;
      day = latest >= 0.1 ? r.range(0.1, latest) : latest - r.range(0, 0.5);
      break;
    }
    case "windows-update": {
      const latest = usable - 9.6;
      day = latest >= 0.1 ? r.range(0.1, latest) : latest - r.range(0, 0.5);
      break;
    }
    case "macos-full": {
      const latest = usable - 2.5;
      day = latest >= 0.05 ? r.range(0.05, latest) : latest - r.range(0, 0.3);
      break;
    }
    case "timer-pending": {
      const lo = Math.max(0.05 * days, days - 6.9);
      day = r.range(lo, Math.max(lo, 0.8 * days));
      break;
    }
    case "installer-only":
      day = r.range(0.05 * days, 0.8 * days);
      break;
  }
  const installAt = w.startMs + day * DAY;
  const iconIndex = r.int(1, 15);
  const infection: Infection = {
    variant,
    build,
    installAt,
    timerAt: Number.POSITIVE_INFINITY,
    iconIndex,
    c2Url:
      host.os === "windows"
        ? ICON_C2_URLS[iconIndex]
        : `https://${r.pick(MACOS_C2_DOMAINS)}/${r.pick(["", "api/status", "v1/update", "blog/feed"])}`,
    memoryProtection: host.os === "windows" ? r.pick(["detect", "detect", "prevent", "off"] as const) : "off",
    handsOnKeyboard: r.chance(0.5),
    installed: false,
    manifestWritten: false,
    alerted: false,
    blocked: false,
    beacons: 0,
    updateAgentDone: false,
    emitted: 0,
  };
  host.infection = infection;
  if (variant === "windows-update") {
    host.threeCx = cleanInstall(host, PRE_COMPROMISE_3CX_VERSION);
    w.at(installAt, () => updateToTrojanised(w, host, infection));
  } else {
    w.at(installAt, () => install(w, host, infection));
  }
  return day;
}

/** Clean 3CX on a look-alike host: installed before the window, or installed / updated during it. */
export function setUpThreeCx(w: World, host: HostState, r: Random): void {
  host.label = "clean-3cx";
  const days = (w.endMs - w.startMs) / DAY;
  if (r.chance(0.15)) {
    const at = w.startMs + r.range(0.05, 0.8) * days * DAY;
    w.at(at, () => installClean(w, host));
  } else {
    host.threeCx = cleanInstall(host, CLEAN_3CX_VERSION);
    if (host.os === "windows" && r.chance(0.3)) {
      const at = w.startMs + r.range(0.05, 0.9) * days * DAY;
      w.at(at, () => cleanUpdateCheck(w, host));
    }
  }
}

// ---- steps ----

/** Run `step` now if the user is logged on with a browser, else at the next logon. */
function whenUserActive(w: World, host: HostState, step: () => void): boolean {
  const s = host.session;
  const settled = s ? s.start + 31 * MINUTE : Number.POSITIVE_INFINITY;
  if (s?.browser && w.now > settled && w.now < s.end - 20 * MINUTE) return true;
  // Later in this session if it has just begun, else some time after the next logon.
  const next =
    s && w.now <= settled
      ? settled + MINUTE + w.rng.int(0, 60) * MINUTE
      : host.nextLogonAt + 35 * MINUTE + w.rng.int(0, 90) * MINUTE;
  w.at(Math.max(next, w.now + MINUTE), step);
  return false;
}

function downloadInstaller(
  w: World,
  host: HostState,
  fileName: string,
  digests: Digests,
  role: (r: string) => { role?: string; lookalike?: string },
): { t: number; path: string } {
  const r = w.rng;
  const session = host.session!;
  const browser = session.browser!.view;
  let t = w.now;
  const ip = addressFor(DOWNLOAD_HOST);
  const mark = (at: number, render: ReturnType<typeof fileEvent>, name: string) => {
    const m = role(name);
    if (m.lookalike) w.emitLookalike(at, host, render, m.lookalike);
    else w.emit(at, host, render, m.role);
  };
  mark(t, dnsLookup(host.identity, browser, DOWNLOAD_HOST, [ip]), "installer-download-dns");
  t += r.int(20, 200);
  const url = `https://${DOWNLOAD_HOST}/downloads/3CXDesktopApp/${fileName}`;
  mark(
    t,
    proxyRequest(host.identity, {
      method: "GET",
      url,
      userAgent: browserUserAgent(host),
      status: 200,
      requestBytes: r.int(400, 900),
      responseBytes: r.int(95_000_000, 140_000_000),
      destination: ip,
      contentType: "application/octet-stream",
    }),
    "installer-download-http",
  );
  t += r.int(5 * SECOND, 40 * SECOND);
  const sep = host.os === "windows" ? "\\" : "/";
  const path = `${host.home}${sep}Downloads${sep}${fileName}`;
  mark(
    t,
    fileEvent(host.identity, browser, "creation", path, r.int(95_000_000, 140_000_000), digests),
    "installer-download",
  );
  return { t, path };
}

function install(w: World, host: HostState, inf: Infection): void {
  if (!whenUserActive(w, host, () => install(w, host, inf))) return;
  const r = w.rng;
  const build = inf.build;
  const fileName = build ? build.fileName : "3cxdesktopapp-18.12.416.msi";
  const digests: Digests = build
    ? { md5: build.md5, sha1: build.sha1, sha256: build.sha256 }
    : digestsFor(`unknown-build|${w.seed}|installer`);
  const chain = (role: string) => ({ role });
  const { t: downloaded, path } = downloadInstaller(w, host, fileName, clean(digests), chain);
  if (inf.variant === "installer-only") return;
  const installed = inf.variant === "unknown-dll" ? unknownInstall(w, host) : trojanisedInstall(host, build!);
  runInstaller(w, host, downloaded + r.int(20 * SECOND, 8 * MINUTE), path, installed, chain);
  inf.installed = true;
}

function installClean(w: World, host: HostState): void {
  if (!whenUserActive(w, host, () => installClean(w, host))) return;
  const r = w.rng;
  const fileName =
    host.os === "windows"
      ? `3cxdesktopapp-${CLEAN_3CX_VERSION}.msi`
      : `3CXDesktopApp-${CLEAN_3CX_VERSION}.dmg`;
  const look = (what: string) => ({ lookalike: `clean-3cx-${what}` });
  const { t, path } = downloadInstaller(
    w,
    host,
    fileName,
    digestsFor(`3cx|${CLEAN_3CX_VERSION}|${fileName}`),
    look,
  );
  runInstaller(
    w,
    host,
    t + r.int(20 * SECOND, 8 * MINUTE),
    path,
    cleanInstall(host, CLEAN_3CX_VERSION),
    look,
  );
}

function clean(d: Digests): Digests {
  return { sha256: d.sha256, ...(d.md5 ? { md5: d.md5 } : {}), ...(d.sha1 ? { sha1: d.sha1 } : {}) };
}

/** msiexec (Windows) or DiskImageMounter + Finder copy (macOS), then the app's first start. */
function runInstaller(
  w: World,
  host: HostState,
  t: number,
  installerPath: string,
  installed: ThreeCxInstall,
  mark: (role: string) => { role?: string; lookalike?: string },
): void {
  const r = w.rng;
  const session = host.session!;
  const put = (at: number, render: ReturnType<typeof fileEvent>, role: string) => {
    const m = mark(role);
    if (m.lookalike) w.emitLookalike(at, host, render, m.lookalike);
    else w.emit(at, host, render, m.role);
  };
  let at = t;
  let installer: ProcessView;
  if (host.os === "windows") {
    installer = w.spawn(
      host,
      w.bin(host, "msiexec"),
      at,
      ["C:\\Windows\\System32\\msiexec.exe", "/i", installerPath],
      session.shell,
      mark("installer-run"),
    );
    const dir = WIN_APP_DIR.replace("{home}", host.home);
    at += r.int(3 * SECOND, 20 * SECOND);
    put(
      at,
      fileEvent(host.identity, installer, "creation", `${dir}\\3CXDesktopApp.exe`, 150_128_640),
      "client-written",
    );
    for (const l of installed.libraries) {
      at += r.int(100, 2000);
      const role =
        l.library.name === "ffmpeg.dll"
          ? "ffmpeg-written"
          : l.library.name === "d3dcompiler_47.dll"
            ? "d3dcompiler-written"
            : "library-written";
      put(
        at,
        fileEvent(
          host.identity,
          installer,
          "creation",
          l.library.path,
          l.library.name === "ffmpeg.dll" ? 2_822_656 : 4_916_728,
        ),
        role,
      );
    }
    at += r.int(100, 2000);
    put(
      at,
      fileEvent(host.identity, installer, "creation", `${dir}\\update.exe`, 1_899_520),
      "updater-written",
    );
  } else {
    installer = w.spawn(
      host,
      w.bin(host, "diskimagemounter"),
      at,
      ["/System/Library/CoreServices/DiskImageMounter.app/Contents/MacOS/DiskImageMounter", installerPath],
      host.system.get("launchd"),
      mark("installer-run"),
    );
    at += r.int(5 * SECOND, 60 * SECOND);
    put(
      at,
      fileEvent(
        host.identity,
        session.shell,
        "creation",
        `${MAC_APP}/Contents/MacOS/3CX Desktop App`,
        172_016,
      ),
      "client-written",
    );
    at += r.int(200, 3000);
    put(
      at,
      fileEvent(host.identity, session.shell, "creation", installed.libraries[0].library.path, 3_187_584),
      "libffmpeg-written",
    );
  }
  const endMark = mark("installer-end");
  w.end(host, installer, at + r.int(500, 5000), endMark.role);
  host.threeCx = installed;
  const startAt = at + r.int(30 * SECOND, 3 * MINUTE);
  const parent = host.os === "windows" ? session.shell : host.system.get("launchd");
  startThreeCx(w, host, startAt, session.end - r.int(0, MINUTE), parent);
}

/** Clean 3CX asking its updater for the current (fixed) release: Sigma's broad update pattern matches this. */
function cleanUpdateCheck(w: World, host: HostState): void {
  const s = host.session;
  const running = s?.threeCx;
  if (!s || !running || running.endAt < w.now + 10 * MINUTE) {
    w.at(host.nextLogonAt + 20 * MINUTE + w.rng.int(0, 120) * MINUTE, () => cleanUpdateCheck(w, host));
    return;
  }
  const r = w.rng;
  const exe = host.pathOf(UPDATE_WIN);
  const view = w.spawn(
    host,
    UPDATE_WIN,
    w.now,
    [exe, "--update", `${UPDATE_FEED}/${CLEAN_3CX_VERSION}`],
    running.view,
    { lookalike: "clean-3cx-update", signature: WIN_3CX_SIG },
  );
  webExchangeChain(
    w,
    host,
    view,
    w.now + r.int(50, 400),
    DOWNLOAD_HOST,
    "Squirrel/1.5.2",
    `${UPDATE_FEED}/${CLEAN_3CX_VERSION}/RELEASES`,
    "GET",
    { lookalike: "clean-3cx-update" },
  );
  w.end(host, view, w.now + r.int(2 * SECOND, 20 * SECOND));
}

/** windows-update: a clean pre-compromise 3CX pulls the trojanised 18.12.416 through update.exe. */
function updateToTrojanised(w: World, host: HostState, inf: Infection): void {
  const s = host.session;
  const running = s?.threeCx;
  if (!s || !running || running.endAt < w.now + 15 * MINUTE) {
    w.at(host.nextLogonAt + 20 * MINUTE + w.rng.int(0, 90) * MINUTE, () => updateToTrojanised(w, host, inf));
    return;
  }
  const r = w.rng;
  const build = TROJANISED_BUILDS.find((b) => b.os === "windows" && b.version === "18.12.416")!;
  let t = w.now;
  const exe = host.pathOf(UPDATE_WIN);
  const view = w.spawn(
    host,
    UPDATE_WIN,
    t,
    [exe, "--update", `${UPDATE_FEED}/${build.version}`],
    running.view,
    { role: "update-run", signature: WIN_3CX_SIG },
  );
  t = webExchangeChain(
    w,
    host,
    view,
    t + r.int(50, 400),
    DOWNLOAD_HOST,
    "Squirrel/1.5.2",
    `${UPDATE_FEED}/${build.version}/3CXDesktopApp-${build.version}-full.nupkg`,
    "GET",
    { role: "update-download" },
  );
  t += r.int(10 * SECOND, 60 * SECOND);
  const packages = `${host.home}\\AppData\\Local\\Programs\\3CXDesktopApp\\packages`;
  w.emit(
    t,
    host,
    fileEvent(
      host.identity,
      view,
      "creation",
      `${packages}\\3CXDesktopApp-${build.version}-full.nupkg`,
      112_401_233,
      { sha256: NUPKG_416_SHA256 },
    ),
    "update-package-written",
  );
  const dir = WIN_APP_DIR.replace("{home}", host.home);
  const installed = trojanisedInstall(host, build);
  t += r.int(2 * SECOND, 10 * SECOND);
  w.emit(
    t,
    host,
    fileEvent(host.identity, view, "overwrite", `${dir}\\3CXDesktopApp.exe`, 150_128_640),
    "client-written",
  );
  for (const l of installed.libraries.slice(0, 2)) {
    t += r.int(100, 1500);
    w.emit(
      t,
      host,
      fileEvent(host.identity, view, "overwrite", l.library.path, 3_000_000),
      l.library.name === "ffmpeg.dll" ? "ffmpeg-written" : "d3dcompiler-written",
    );
  }
  w.end(host, view, t + r.int(500, 3000), "update-end");
  // The new files take effect at the next start of the app.
  host.threeCx = installed;
  inf.installed = true;
}

function webExchangeChain(
  w: World,
  host: HostState,
  view: ProcessView,
  t: number,
  domain: string,
  ua: string,
  url: string,
  method: "GET" | "POST",
  mark: { role?: string; lookalike?: string },
  stage = "",
  responseBytes?: number,
  requestBytes?: number,
): number {
  const r = w.rng;
  const ip = addressFor(domain, r.int(0, 3));
  // Roles: `<step>-dns`, `<step>-connect`, `<step>-http` (the proxy's record of the request).
  const put = (at: number, render: ReturnType<typeof connection>, kind: "dns" | "connect" | "http") => {
    if (mark.lookalike) w.emitLookalike(at, host, render, mark.lookalike);
    else w.emit(at, host, render, mark.role ? `${mark.role}-${kind}` : undefined);
  };
  if (stage !== "no-dns") put(t, dnsLookup(host.identity, view, domain, [ip]), "dns");
  t += r.int(5, 60);
  put(t, connection(host.identity, view, ip, 443, host.nextPort()), "connect");
  t += r.int(100, 1500);
  put(
    t,
    proxyRequest(host.identity, {
      method,
      url,
      userAgent: ua,
      status: 200,
      requestBytes: requestBytes ?? r.int(300, method === "POST" ? 2000 : 900),
      responseBytes: responseBytes ?? r.int(1000, 200_000),
      destination: ip,
      contentType: url.endsWith(".ico") ? "application/octet-stream" : "text/html",
    }),
    "http",
  );
  return t;
}

// ---- the running app ----

/** 3CX starts (at logon or after an install): libraries, Electron helpers, the PBX connection, and the chain. */
export function startThreeCx(
  w: World,
  host: HostState,
  t: number,
  endAt: number,
  parent: ProcessView | undefined,
): void {
  const install = host.threeCx!;
  const r = w.rng;
  const inf = host.infection && install.build !== "clean" ? host.infection : null;
  const win = host.os === "windows";
  const client = win ? CLIENT_WIN : CLIENT_MAC;
  const exe = host.pathOf(client);
  const mark = (role: string) => (inf ? { role } : { lookalike: "clean-3cx" });
  const view = w.spawn(host, client, t, [exe], parent, {
    ...mark("client-start"),
    digests: install.clientDigests,
    signature: install.clientSignature,
    version: install.version,
  });
  let at = t + r.int(100, 600);
  for (const l of install.libraries) {
    at += r.int(5, 120);
    const render = libraryLoad(host.identity, view, l.json);
    if (inf) w.emit(at, host, render, l.role);
    else w.emitLookalike(at, host, render, "clean-3cx");
  }
  for (const type of win ? ["gpu-process", "renderer", "utility"] : ["renderer"]) {
    const child = w.spawn(
      host,
      client,
      at + r.int(200, 3000),
      [exe, `--type=${type}`, "--lang=en-US"],
      view,
      {
        digests: install.clientDigests,
        signature: install.clientSignature,
        version: install.version,
        ...(inf ? {} : { lookalike: "clean-3cx" }),
      },
    );
    w.end(host, child, endAt - r.int(100, 2000));
  }
  const pbx = addressFor(PBX_FQDN);
  w.emit(at + r.int(1000, 5000), host, dnsLookup(host.identity, view, PBX_FQDN, [pbx]));
  w.emit(at + r.int(5000, 8000), host, connection(host.identity, view, pbx, 5001, host.nextPort()));
  w.end(host, view, endAt);
  const app: RunningApp = { key: "3cx", view, endAt };
  if (host.session) {
    host.session.threeCx = app;
    // Ordinary softphone traffic to the company's PBX comes from the background's app-network activity.
    host.session.apps.push(app);
  }
  if (!inf) return;

  if (win) {
    if (!inf.manifestWritten) {
      const writeAt = at + r.int(2 * SECOND, 10 * SECOND);
      const manifest = `${WIN_APP_DIR.replace("{home}", host.home)}\\manifest`;
      w.emit(writeAt, host, fileEvent(host.identity, view, "creation", manifest, 8), "manifest-written");
      inf.manifestWritten = true;
      inf.timerAt = writeAt + (TIMER_SECONDS + r.int(0, TIMER_JITTER_MAX_SECONDS)) * SECOND;
    }
    if (inf.variant === "timer-pending") return;
    const due = Math.max(at + r.int(60 * SECOND, 5 * MINUTE), inf.timerAt);
    if (due < endAt - MINUTE) w.at(due, () => windowsPayload(w, host, inf, view, endAt, true));
  } else {
    const support = MAC_SUPPORT_DIR.replace("{home}", host.home);
    if (!inf.manifestWritten) {
      const writeAt = at + r.int(2 * SECOND, 20 * SECOND);
      w.emit(
        writeAt,
        host,
        fileEvent(host.identity, view, "creation", `${support}/.main_storage`, 56),
        "main-storage-written",
      );
      w.emit(
        writeAt + r.int(5, 200),
        host,
        fileEvent(host.identity, view, "creation", `${support}/.session-lock`, 0),
        "session-lock-written",
      );
      inf.manifestWritten = true;
      // The dylib's first contact time is not published; the simulator waits 1-4 hours (synthetic).
      inf.timerAt = writeAt + r.int(1 * HOUR, 4 * HOUR);
    }
    const due = Math.max(at + r.int(2 * MINUTE, 10 * MINUTE), inf.timerAt);
    if (due < endAt - MINUTE) w.at(due, () => macBeacon(w, host, inf, view, endAt));
  }
}

/** The decrypted stage runs once the timer has expired: Defend may catch the shellcode thread. */
function windowsPayload(
  w: World,
  host: HostState,
  inf: Infection,
  view: ProcessView,
  endAt: number,
  first: boolean,
): void {
  const r = w.rng;
  let t = w.now;
  if (first && inf.memoryProtection !== "off") {
    const prevented = inf.memoryProtection === "prevent";
    w.emit(
      t,
      host,
      memoryThreatAlert(host.identity, view, prevented, r.pick([204800, 262144, 1048576]), r.hex(64)),
      "memory-threat-alert",
    );
    inf.alerted = true;
    if (prevented) {
      inf.blocked = true;
      return;
    }
    t += r.int(50, 500);
  }
  if (first) {
    const url = `${ICON_URL_PREFIX}${inf.iconIndex}.ico`;
    t = webExchangeChain(
      w,
      host,
      view,
      t,
      "raw.githubusercontent.com",
      WINDOWS_C2_USER_AGENT,
      url,
      "GET",
      { role: "ico" },
      "",
      ICON_SIZES[inf.iconIndex],
    );
    t += r.int(200, 3000);
  }
  const c2 = new URL(inf.c2Url);
  t = webExchangeChain(
    w,
    host,
    view,
    t,
    c2.hostname,
    WINDOWS_C2_USER_AGENT,
    inf.c2Url,
    "POST",
    { role: "c2" },
    first || r.chance(0.3) ? "" : "no-dns",
  );
  if (inf.beacons === 0) {
    // The first reply carries the next stage (ICONIC Stealer); it posts what it collected a little later.
    t += r.int(30 * SECOND, 5 * MINUTE);
    webExchangeChain(
      w,
      host,
      view,
      t,
      c2.hostname,
      WINDOWS_C2_USER_AGENT,
      inf.c2Url,
      "POST",
      { role: "stealer-exfil" },
      "no-dns",
      400,
      r.int(20_000, 90_000),
    );
  }
  inf.beacons++;
  if (inf.handsOnKeyboard && inf.beacons === 3)
    handsOnKeyboard(w, host, view, t + r.int(2 * MINUTE, 20 * MINUTE), endAt);
  const next = t + r.int(BEACON_MIN_SECONDS, BEACON_MAX_SECONDS) * SECOND;
  if (next < endAt - MINUTE) w.at(next, () => windowsPayload(w, host, inf, view, endAt, false));
}

/** Discovery commands run as children of 3CXDesktopApp.exe (what CrowdStrike and Sigma watch for). */
function handsOnKeyboard(w: World, host: HostState, parent: ProcessView, t: number, endAt: number): void {
  if (t > endAt - MINUTE) return;
  const r = w.rng;
  const cmd = w.spawn(
    host,
    w.bin(host, "cmd"),
    t,
    [
      "C:\\Windows\\system32\\cmd.exe",
      "/c",
      'whoami /all && ipconfig /all && net group "domain admins" /domain',
    ],
    parent,
    { role: "suspicious-child" },
  );
  const conhost = w.spawn(
    host,
    w.bin(host, "conhost"),
    t + r.int(5, 40),
    ["\\??\\C:\\Windows\\system32\\conhost.exe", "0xffffffff", "-ForceV1"],
    cmd,
  );
  const whoami = w.spawn(host, w.bin(host, "whoami"), t + r.int(50, 300), ["whoami", "/all"], cmd, {
    role: "discovery",
  });
  w.end(host, whoami, t + r.int(400, 900));
  w.end(host, conhost, t + r.int(2000, 4000));
  w.end(host, cmd, t + r.int(2000, 4000), "suspicious-child-end");
  const ps = t + r.int(5 * MINUTE, 30 * MINUTE);
  if (ps < endAt - MINUTE) {
    const view = w.spawn(
      host,
      w.bin(host, "powershell"),
      ps,
      [
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "-nop",
        "-w",
        "hidden",
        "-c",
        "Get-ChildItem $env:APPDATA\\3CXDesktopApp",
      ],
      parent,
      { role: "suspicious-child" },
    );
    w.end(host, view, ps + r.int(1000, 8000), "suspicious-child-end");
  }
}

/** The macOS dylib's beacon; after the first ones, the UpdateAgent stage. */
function macBeacon(w: World, host: HostState, inf: Infection, view: ProcessView, endAt: number): void {
  const r = w.rng;
  const c2 = new URL(inf.c2Url);
  let t = webExchangeChain(
    w,
    host,
    view,
    w.now,
    c2.hostname,
    MACOS_C2_USER_AGENT,
    inf.c2Url,
    "POST",
    { role: "c2" },
    inf.beacons === 0 || r.chance(0.3) ? "" : "no-dns",
  );
  inf.beacons++;
  if (!inf.updateAgentDone && inf.beacons >= 2 && r.chance(0.5)) {
    t += r.int(30 * SECOND, 5 * MINUTE);
    if (t < endAt - 2 * MINUTE) runUpdateAgent(w, host, inf, view, t);
  }
  const next = t + r.int(BEACON_MIN_SECONDS, BEACON_MAX_SECONDS) * SECOND;
  if (next < endAt - MINUTE) w.at(next, () => macBeacon(w, host, inf, view, endAt));
}

/** Written next to `.main_storage`, run through popen (`sh -c`), posts to sbmsa.wiki, deletes itself `[PW]`. */
function runUpdateAgent(w: World, host: HostState, inf: Infection, app: ProcessView, t: number): void {
  const r = w.rng;
  const path = host.pathOf(UPDATE_AGENT);
  const digests: Digests = { sha1: UPDATE_AGENT_SHA1, sha256: UPDATE_AGENT_SHA256 };
  w.emit(t, host, fileEvent(host.identity, app, "creation", path, 45_936, digests), "updateagent-written");
  t += r.int(100, 800);
  const sh = w.spawn(host, w.bin(host, "sh"), t, ["/bin/sh", "-c", `"${path}" >/dev/null 2>&1`], app, {
    role: "updateagent-shell",
  });
  t += r.int(20, 200);
  const agent = w.spawn(host, UPDATE_AGENT, t, [path], sh, { role: "updateagent-exec", digests });
  t = webExchangeChain(
    w,
    host,
    agent,
    t + r.int(100, 800),
    "sbmsa.wiki",
    MACOS_C2_USER_AGENT,
    SBMSA_URL,
    "POST",
    { role: "sbmsa" },
    "",
    200,
    r.int(300, 2000),
  );
  t += r.int(50, 500);
  w.emit(t, host, fileEvent(host.identity, agent, "deletion", path, 45_936), "updateagent-deleted");
  w.end(host, agent, t + r.int(10, 200), "updateagent-end");
  w.end(host, sh, t + r.int(200, 600), "updateagent-shell-end");
  inf.updateAgentDone = true;
}
