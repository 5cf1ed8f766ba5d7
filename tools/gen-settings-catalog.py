#!/usr/bin/env python3
"""gen-settings-catalog.py - write docs/settings-catalog.md from the settings
catalog rule files (rules/winstate-catalog-*.xml), the other default rule
files (rules/winstate-*.xml: applications and user folders) and the Store
app tables of src/apps/apps_id.c.

Each <component> of every default rule file carries a <description> of
"key: text" lines (category, windows10, windows11, 10to11, limitations, and
optionally layout and source; the application files need source); the
generator refuses a component that lacks one of them, or whose 10to11 does
not start with "carried", "translated" or "dropped" (apply reports that
verdict: a component without one would show as "unknown").

usage: gen-settings-catalog.py [--source DIR] [-o FILE]   (default: stdout)
"""
import argparse
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

KEYS = ("category", "windows10", "windows11", "10to11", "limitations")
OPTIONAL = ("layout", "source")
MOVES = ("carried", "translated", "dropped")


def fail(msg):
    sys.stderr.write("gen-settings-catalog: %s\n" % msg)
    sys.exit(1)


def lname(el):
    return el.tag.split("}")[-1].lower() if isinstance(el.tag, str) else ""


def children(el, name):
    return [c for c in el if lname(c) == name]


def walk(el, name):
    return [c for c in el.iter() if lname(c) == name]


def parse_description(text, where, need=()):
    out = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        m = re.match(r"^([A-Za-z0-9]+):\s?(.*)$", line)
        if not m or m.group(1) not in KEYS + OPTIONAL:
            fail("%s: description line not of the form 'key: text': %r" % (where, line))
        out[m.group(1)] = m.group(2).strip()
    for k in KEYS + tuple(need):
        if k not in out:
            fail("%s: description lacks '%s:'" % (where, k))
    if not out["10to11"].startswith(MOVES):
        fail("%s: 10to11 must start with carried, translated or dropped" % where)
    return out


def md(s):
    return s.replace("|", "\\|")


def patterns(rules, kind):
    res = []
    for r in walk(rules, kind):
        flt = r.get("filter", "")
        for os_ in children(r, "objectset"):
            for p in children(os_, "pattern"):
                res.append(((p.get("type") or "").capitalize(), p.text.strip(), flt))
            res.extend(content_patterns(os_))
    return res


def content_patterns(os_):
    """A <content> element's objects, said as what its filter takes from
    the locations it reads: ExtractDirectory(Separators, LevelsToTrim,
    PatternSuffix) a folder (or PatternSuffix in it), the others a file."""
    res = []
    for c in children(os_, "content"):
        flt = c.get("filter", "")
        args = re.findall(r'"([^"]*)"|NULL', flt)
        if "ExtractDirectory" in flt:
            suffix = args[2] if len(args) > 2 and args[2] else ""
            what = ("%s in the folder named by " % suffix) if suffix else "the folder named by "
        else:
            what = "the file named by "
        for inner in walk(c, "pattern"):
            res.append(("File", what + inner.text.strip(), ""))
    return res


def comments_before_excludes(path):
    """The '<!-- excluded: why -->' comment of each exclude, in file order."""
    text = open(path, encoding="utf-8").read()
    return re.findall(r"<!-- excluded: (.*?) -->", text, re.S)


def load_app(path):
    """A default rule file outside the catalog: the same notes plus
    source (required) and layout; an <exclude>'s reason is the comment
    just before it, when there is one."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(path, parser=parser).getroot()
    comps = []
    for comp in walk(root, "component"):
        name = (children(comp, "displayname")[0].text or "").strip()
        where = "%s: %s" % (os.path.basename(path), name)
        descs = children(comp, "description")
        if not descs:
            fail("%s: no <description>" % where)
        d = parse_description(descs[0].text, where, need=("source", "layout"))
        exc = []
        for rules in walk(comp, "rules"):
            why = ""
            for el in rules:
                if el.tag is ET.Comment:
                    t = (el.text or "").strip()
                    why = t[len("excluded:"):].strip() if t.startswith("excluded:") else ""
                    continue
                if lname(el) in ("exclude", "unconditionalexclude"):
                    kind = "exclude" if lname(el) == "exclude" else "unconditional exclude"
                    for os_ in children(el, "objectset"):
                        for p in children(os_, "pattern"):
                            exc.append((((p.get("type") or "").capitalize(), p.text.strip(), ""),
                                        kind + (": " + why if why else "")))
                        for t in content_patterns(os_):
                            exc.append((t, kind + (": " + why if why else "")))
                why = ""
        comps.append(dict(name=name, context=comp.get("context", "UserAndSystem"),
                          file=os.path.basename(path), inc=patterns(comp, "include"),
                          exc=exc, **d))
    return comps


def load(path):
    root = ET.parse(path).getroot()
    reasons = comments_before_excludes(path)
    ri = 0
    comps = []
    for comp in walk(root, "component"):
        name = (children(comp, "displayname")[0].text or "").strip()
        where = "%s: %s" % (os.path.basename(path), name)
        descs = children(comp, "description")
        if not descs:
            fail("%s: no <description>" % where)
        d = parse_description(descs[0].text, where)
        inc = patterns(comp, "include")
        exc = patterns(comp, "exclude")
        why = reasons[ri:ri + len(exc)]
        ri += len(exc)
        if len(why) != len(exc):
            fail("%s: every <exclude> needs an '<!-- excluded: why -->' comment" % where)
        comps.append(dict(name=name, context=comp.get("context", "UserAndSystem"),
                          file=os.path.basename(path), inc=inc,
                          exc=list(zip(exc, why)), **d))
    return comps


def c_table(src, start, end):
    text = open(src, encoding="utf-8").read()
    i = text.index(start)
    j = text.index(end, i)
    return re.findall(r'"([^"]+)"', text[i:j])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("-o", "--output")
    a = ap.parse_args()
    files = sorted(glob.glob(os.path.join(a.source, "rules", "winstate-catalog-*.xml")))
    if not files:
        fail("no rules/winstate-catalog-*.xml under %s" % a.source)
    comps = []
    for f in files:
        comps.extend(load(f))
    apps = []
    for f in sorted(glob.glob(os.path.join(a.source, "rules", "winstate-*.xml"))):
        if f not in files:
            apps.extend(load_app(f))

    o = []
    w = o.append
    w("# Windows settings catalog")
    w("")
    w("<!-- Generated by tools/gen-settings-catalog.py from rules/winstate-*.xml")
    w("     and src/apps/apps_id.c. Do not edit: change the rule files and regenerate")
    w("     (the e2e test t70_catalog_doc fails while this file is out of date). -->")
    w("")
    w("What winstate carries of the settings Windows Backup for Organizations restores, offline,")
    w("from the hives and files of a Windows 10 or 11 installation. Each group is one `<component>`")
    w("of the rule files; switch a group off in Config.xml with its display name, e.g.")
    w("`<component displayname=\"Personalization: wallpaper\" migrate=\"no\"/>`.")
    w("")
    w("Contexts: *User* groups are captured per user profile (HKCU = the user's NTUSER.DAT, paths")
    w("under the profile), *System* groups once per device. *Windows 10 → 11* says whether a")
    w("setting is carried as is, translated, or dropped (and why) when the target runs Windows 11.")
    w("")
    w("## Summary")
    w("")
    w("| group | category | context | Windows 10 → 11 | rule file |")
    w("|---|---|---|---|---|")
    for c in comps:
        move = c["10to11"].split(":")[0]
        w("| %s | %s | %s | %s | `%s` |" % (md(c["name"]), md(c["category"]), c["context"],
                                            md(move), c["file"]))
    w("")
    w("## Groups")
    for c in comps:
        w("")
        w("### %s" % c["name"])
        w("")
        w("- **Category:** %s; **context:** %s; **rule file:** `rules/%s`" %
          (c["category"], c["context"], c["file"]))
        w("- **Windows 10:** %s" % c["windows10"])
        w("- **Windows 11:** %s" % c["windows11"])
        w("- **Windows 10 → 11:** %s" % c["10to11"])
        if c["limitations"]:
            w("- **Limitations:** %s" % c["limitations"])
        if c.get("source"):
            w("- **Source:** %s" % c["source"])
        w("")
        w("| | type | location |")
        w("|---|---|---|")
        for t, p, flt in c["inc"]:
            note = " (captured, never restored)" if "NeverRestore" in flt else ""
            w("| include%s | %s | `%s` |" % (note, t, md(p)))
        for (t, p, _), why in c["exc"]:
            w("| exclude: %s | %s | `%s` |" % (md(" ".join(why.split())), t, md(p)))
    if apps:
        w("")
        w("## Applications and user folders")
        w("")
        w("The other default rule files carry the user's folders and the data of common")
        w("applications. Each group below says where the application keeps its data on disk")
        w("(*layout*) and where that is documented (*source*); what is left out is excluded with")
        w("its reason. Registry hives and their logs are never captured as files, whatever a")
        w("rule says. Every group has a Windows 10 → 11 verdict, reported by apply.")
        w("")
        w("| group | category | context | Windows 10 → 11 | rule file |")
        w("|---|---|---|---|---|")
        for c in apps:
            w("| %s | %s | %s | %s | `%s` |" % (md(c["name"]), md(c["category"]), c["context"],
                                                md(c["10to11"].split(":")[0]), c["file"]))
        for c in apps:
            w("")
            w("### %s" % c["name"])
            w("")
            w("- **Category:** %s; **context:** %s; **rule file:** `rules/%s`" %
              (c["category"], c["context"], c["file"]))
            w("- **Windows 10:** %s" % c["windows10"])
            w("- **Windows 11:** %s" % c["windows11"])
            w("- **Windows 10 → 11:** %s" % c["10to11"])
            if c["limitations"]:
                w("- **Limitations:** %s" % c["limitations"])
            if c.get("layout"):
                w("- **On disk:** %s" % c["layout"])
            w("- **Source:** %s" % c["source"])
            w("")
            w("| | type | location |")
            w("|---|---|---|")
            for t, p, flt in c["inc"]:
                note = " (captured, never restored)" if "NeverRestore" in flt else ""
                w("| include%s | %s | `%s` |" % (note, t, md(p)))
            for (t, p, _), why in c["exc"]:
                w("| %s | %s | `%s` |" % (md(" ".join(why.split())), t, md(p)))
    src = os.path.join(a.source, "src", "apps", "apps_id.c")
    fw = c_table(src, "framework_prefixes[] = {", "NULL")
    inbox = c_table(src, "inbox_names[] = {", "NULL")
    prod = c_table(src, "product_ids[] = {", "{ NULL, NULL }")
    w("")
    w("## Microsoft Store apps")
    w("")
    w("The app module (`src/apps/`) inventories each user's packages from UsrClass.dat")
    w("(`AppModel\\Repository\\Packages` and `Families`), the SOFTWARE hive")
    w("(`Appx\\AppxAllUserStore`: `Applications`, `InboxApplications`, `<SID>`, `Deprovisioned`) and")
    w("the `%LOCALAPPDATA%\\Packages` folders, and classifies them. Only apps the user installed go")
    w("into the reinstall list staged for first sign-in (winget-import JSON): frameworks, resource")
    w("packages, system apps, inbox/provisioned apps and apps the image deprovisioned are left out.")
    w("")
    w("- **Framework** when the repository key has `Framework` = 1 or the name starts with: %s." %
      ", ".join("`%s`" % x for x in fw))
    w("- **System** when the package root is under `\\Windows\\SystemApps\\`, the publisher id is")
    w("  `cw5n1h2txyewy`, or SOFTWARE lists it under `InboxApplications`.")
    w("- **Inbox** when SOFTWARE lists it under `Applications` (provisioned) or, without the SOFTWARE")
    w("  hive, when its name is one Windows 8.1/10/11 provisions by default: %s." %
      ", ".join("`%s`" % x for x in inbox))
    w("")
    w("The msstore `PackageIdentifier` of winget is a Store ProductId, which cannot be derived")
    w("offline. winstate knows it for these common apps; every other app travels in the")
    w("`winstate` side data of the JSON (family name, full name, source SID) for an offline")
    w("package folder (`--app-cache`) or a manual reinstall:")
    w("")
    w("| package family | Store ProductId |")
    w("|---|---|")
    for fam, pid in zip(prod[0::2], prod[1::2]):
        w("| `%s` | `%s` |" % (fam, pid))
    w("")
    text = "\n".join(o)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
