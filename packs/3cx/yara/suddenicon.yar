/*
 * Quarry 3CX pack: YARA rules for the 3CX supply-chain compromise (SUDDENICON / ICONIC / SmoothOperator).
 *
 * Written by the Quarry project from the published byte facts (see docs/scan.md and the pack's sources):
 * the SigFlip-style carrier (doubled FEEDFACE marker in a d3dcompiler_47.dll look-alike), the inner
 * ICONIC loader's strings, the IconStorages ICO dead-drop layout, the ICONIC stealer's strings, and the
 * macOS pieces (XOR-0x7A strings of libffmpeg.dylib, UpdateAgent, .main_storage).
 *
 * Every rule keeps to features both YARA 4.x and YARA-X support, so `yara` and `quarry scan` agree.
 */

import "pe"

rule Quarry_3CX_SuddenIcon_Carrier_DoubledMarker : SUDDENICON carrier
{
    meta:
        description = "d3dcompiler_47.dll carrier: a PE naming D3DCompiler_47.pdb that holds the doubled FEEDFACE marker placed before the RC4-encrypted stage (SigFlip layout)"
        author = "Quarry"
        reference = "https://www.elastic.co/security-labs/elastic-users-protected-from-suddenicon-supply-chain-attack"
        severity = "critical"
        date = "2026-11-27"
    strings:
        $marker = { FE ED FA CE FE ED FA CE }
        $pdb = "D3DCompiler_47.pdb" ascii
    condition:
        uint16(0) == 0x5A4D and $pdb and $marker
}

rule Quarry_3CX_SuddenIcon_Carrier_MarkerInCertificateTable : SUDDENICON carrier
{
    meta:
        description = "d3dcompiler_47.dll carrier variant: a FEEDFACE marker (single or doubled) inside the Authenticode certificate table of a PE naming D3DCompiler_47.pdb, where signature padding hides the encrypted stage"
        author = "Quarry"
        reference = "https://www.elastic.co/security-labs/elastic-users-protected-from-suddenicon-supply-chain-attack"
        severity = "high"
        date = "2026-11-27"
    strings:
        $marker = { FE ED FA CE }
        $pdb = "D3DCompiler_47.pdb" ascii
    condition:
        uint16(0) == 0x5A4D and $pdb and
        pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].size > 0 and
        $marker in (pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].virtual_address ..
                    pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].virtual_address +
                    pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].size - 4)
}

rule Quarry_3CX_FFmpeg_Loader : SUDDENICON loader
{
    meta:
        description = "Trojanised ffmpeg.dll of 3CXDesktopApp: the single-instance event name, the carrier's file name and the RC4 key of its payload"
        author = "Quarry"
        reference = "https://www.elastic.co/security-labs/elastic-users-protected-from-suddenicon-supply-chain-attack"
        severity = "critical"
        date = "2026-11-27"
    strings:
        $event = "AVMonitorRefreshEvent" wide
        $carrier = "d3dcompiler_47.dll" wide nocase
        $key = "3jB(2bsG#@c7" ascii
    condition:
        uint16(0) == 0x5A4D and filesize < 10MB and ($key or ($event and $carrier))
}

rule Quarry_3CX_IconicLoader_Strings : SUDDENICON ICONIC
{
    meta:
        description = "Inner DLL of the decrypted SUDDENICON stage (ICONIC loader): the IconStorages icon URL in UTF-16, or a PE with both beacon cookie names and its format strings"
        author = "Quarry"
        reference = "https://www.volexity.com/blog/2023/03/30/3cx-supply-chain-compromise-leads-to-iconic-incident/"
        severity = "critical"
        date = "2026-11-27"
    strings:
        $url = "https://raw.githubusercontent.com/IconStorages/images/main/icon%d.ico" wide
        $cookie_a = "__tutma" ascii wide
        $cookie_c = "__tutmc" ascii wide
        $fmt_header = "%s: %s" ascii wide
        $fmt_cookie = "%s=%s" ascii wide
        $gcm = "ChainingModeGCM" wide
        $encoding = "gzip, deflate, br" ascii wide
    condition:
        // The loader DLL and the decrypted stage holding it are small; the size bound also lets YARA-X
        // skip the pattern search in large files (see docs/scan.md, "Performance").
        filesize < 16MB and
        ($url or (uint16(0) == 0x5A4D and $cookie_a and $cookie_c and 2 of ($fmt_header, $fmt_cookie, $gcm, $encoding)))
}

rule Quarry_3CX_IconStorages_Ico_DeadDrop : SUDDENICON dead_drop
{
    meta:
        description = "IconStorages-style ICO: an icon whose PNG is followed, after the IEND chunk, by '$' and a base64 run to the end of the file (the encrypted C2 URL)"
        author = "Quarry"
        reference = "https://www.volexity.com/blog/2023/03/30/3cx-supply-chain-compromise-leads-to-iconic-incident/"
        severity = "high"
        date = "2026-11-27"
    strings:
        // IEND chunk type and its CRC, then '$' and base64 text.
        $tail = /IEND\xAE\x42\x60\x82\$[A-Za-z0-9+\/]{16,1024}/
    condition:
        uint16(0) == 0 and uint16(2) == 1 and uint16(4) >= 1 and filesize < 1MB and
        uint32(18) < filesize and uint32be(uint32(18)) == 0x89504E47 and
        // The last such run ends at the end of the file (up to two '=' of padding).
        @tail[#tail] + !tail[#tail] + 2 >= filesize
}

rule Quarry_3CX_IconStorages_Ico_PublishedKey : SUDDENICON dead_drop
{
    meta:
        description = "IconStorages ICO encrypted with the published AES-GCM key and nonce: the base64 tail starts with the constant prefix 0x29 and its ciphertext starts with the encryption of UTF-16 'https://'"
        author = "Quarry"
        reference = "https://www.volexity.com/blog/2023/03/30/3cx-supply-chain-compromise-leads-to-iconic-incident/"
        severity = "critical"
        date = "2026-11-27"
    strings:
        $prefix = { 49 45 4E 44 AE 42 60 82 24 4B 51 41 41 41 }  // IEND, CRC, "$KQAAA"
        $https = "wQWzha6sxQrtzFo3oPSe"
    condition:
        uint16(0) == 0 and uint16(2) == 1 and filesize < 1MB and
        // Base64 characters 28..47 of the tail encode decoded bytes 21..35: the start of the ciphertext.
        @https[#https] == @prefix[#prefix] + 37
}

rule Quarry_3CX_IconicStealer_Strings : ICONIC stealer
{
    meta:
        description = "ICONIC stealer (third stage): reads the 3CX desktop app config and the last 500 browser history URLs of Chrome, Edge, Brave and Firefox"
        author = "Quarry"
        reference = "https://www.volexity.com/blog/2023/03/30/3cx-supply-chain-compromise-leads-to-iconic-incident/"
        severity = "critical"
        date = "2026-11-27"
    strings:
        $config = "\\3CXDesktopApp\\config.json" ascii wide
        $sql_chromium = "SELECT url, title FROM urls ORDER BY id DESC LIMIT 500" ascii wide
        $sql_firefox = "SELECT url, title FROM moz_places ORDER BY id DESC LIMIT 500" ascii wide
        $host_json = "{\"HostName\": \"%s\", \"DomainName\": \"%s\", \"OsVersion\": \"%d.%d.%d\"}" ascii wide
        $host_text = "HostName: %s\\r\\nDomainName: %s\\r\\nOsVersion: %d.%d.%d\\r\\n\\r\\n" ascii wide
        $chrome = "AppData\\Local\\Google\\Chrome\\User Data" ascii wide
        $brave = "AppData\\Local\\BraveSoftware\\Brave-Browser\\User Data" ascii wide
        $firefox = "AppData\\Roaming\\Mozilla\\Firefox\\Profiles" ascii wide
        $banner = "******************************** %s ******************************" ascii wide
    condition:
        uint16(0) == 0x5A4D and ($config and 2 of ($sql*, $host*) or 5 of them)
}

rule Quarry_3CX_MacOS_Libffmpeg_XorStrings : SmoothOperator macos
{
    meta:
        description = "Trojanised libffmpeg.dylib of the 3CX macOS app: configuration strings stored XOR 0x7A (beacon cookie format, SystemVersion.plist path, browser user agent)"
        author = "Quarry"
        reference = "https://www.elastic.co/security-labs/elastic-users-protected-from-suddenicon-supply-chain-attack"
        severity = "critical"
        date = "2026-11-27"
    strings:
        $cookie = ";3cx_auth_token_content=%s;__tutma=" xor(0x7A)
        $plist = "/System/Library/CoreServices/SystemVersion.plist" xor(0x7A)
        $ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.5359.128 Safari/537.36" xor(0x7A)
    condition:
        (uint32(0) == 0xFEEDFACF or uint32(0) == 0xFEEDFACE or uint32be(0) == 0xCAFEBABE) and 2 of them
}

rule Quarry_3CX_MacOS_UpdateAgent : SmoothOperator macos
{
    meta:
        description = "UpdateAgent, the macOS second stage: posts the 3CX account id and token to sbmsa.wiki"
        author = "Quarry"
        reference = "https://www.elastic.co/security-labs/elastic-users-protected-from-suddenicon-supply-chain-attack"
        severity = "critical"
        date = "2026-11-27"
    strings:
        $url = "sbmsa.wiki/blog/_insert" ascii
        $post = "3cx_auth_id=%s;3cx_auth_token_content=%s;__tutma=true" ascii
        $ident = "payload2-55554944839216049d683075bc3f5a8628778bb8" ascii
        $fn1 = "parse_json_config" ascii
        $fn2 = "enc_text" ascii
        $fn3 = "send_post" ascii
    condition:
        (uint32(0) == 0xFEEDFACF or uint32be(0) == 0xCAFEBABE) and ($url or $post or $ident or all of ($fn*))
}

rule Quarry_3CX_MacOS_MainStorage : SmoothOperator macos
{
    meta:
        description = "The macOS implant's .main_storage file: 56 bytes, XOR 0x7A, holding a UUID in text, 12 zero bytes and a 64-bit time"
        author = "Quarry"
        reference = "https://www.elastic.co/security-labs/elastic-users-protected-from-suddenicon-supply-chain-attack"
        severity = "high"
        date = "2026-11-27"
    condition:
        filesize == 56 and
        uint8(8) == 0x57 and uint8(13) == 0x57 and uint8(18) == 0x57 and uint8(23) == 0x57 and
        uint32(36) == 0x7A7A7A7A and uint32(40) == 0x7A7A7A7A and uint32(44) == 0x7A7A7A7A and
        for all i in (0..35) : (
            i == 8 or i == 13 or i == 18 or i == 23 or
            ((uint8(i) ^ 0x7A) >= 0x30 and (uint8(i) ^ 0x7A) <= 0x39) or
            ((uint8(i) ^ 0x7A) >= 0x61 and (uint8(i) ^ 0x7A) <= 0x66) or
            ((uint8(i) ^ 0x7A) >= 0x41 and (uint8(i) ^ 0x7A) <= 0x46)
        )
}
