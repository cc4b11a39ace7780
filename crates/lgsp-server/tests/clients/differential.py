"""Cell-by-cell comparison of `lgsp validate` with `frictionless validate`: for every type,
format and constraint, a file of tricky values (one per row) is validated by both; prints one
line per disagreement (error type and row) and exits 1 if there is any.

Usage: differential.py LGSP_BINARY FRICTIONLESS_BINARY WORK_DIR
"""
import csv
import io
import json
import os
import subprocess
import sys

LGSP, FR, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
os.chdir(WORK)
# Values lgsp refuses on purpose: integers are stored in 64 bits.
KNOWN = {("integer", "type-error", "9223372036854775808")}
cases = {
 "integer": ({"type":"integer"}, ["1","-5","+3","01","1.0","1e3"," 1","1 ","","abc","9223372036854775807","9223372036854775808","1,000","0","-0"]),
 "number": ({"type":"number"}, ["1.5","-0.5",".5","5.","1e3","NaN","INF","-INF","inf","nan","1,5",""," 1.5","+1.5","1E-2","0x10","1_000","Infinity"]),
 "boolean": ({"type":"boolean"}, ["true","false","True","FALSE","1","0","yes","no","t","TRUE","tRue"," true"]),
 "date": ({"type":"date"}, ["2024-01-31","2024-02-30","2024-1-5","20240105","2024-01-31T00:00:00","31/01/2024"," 2024-01-31","2024-02-29","2023-02-29","0001-01-01","10000-01-01","2024-01-31Z"]),
 "date_fmt": ({"type":"date","format":"%d/%m/%Y"}, ["31/01/2024","2024-01-31","1/2/2024","31/1/2024","32/01/2024"]),
 "date_any": ({"type":"date","format":"any"}, ["31/01/2024","2024-01-31","Jan 31 2024","xyz"]),
 "datetime": ({"type":"datetime"}, ["2024-01-31T10:00:00Z","2024-01-31T10:00:00","2024-01-31T10:00:00+07:00","2024-01-31 10:00:00","2024-01-31T10:00:00.123Z","2024-01-31","2024-01-31T25:00:00Z","2024-01-31T10:00Z","2024-01-31T10:00:00+0700"]),
 "time": ({"type":"time"}, ["10:00:00","10:00","25:00:00","10:00:00Z","10:00:00.5","23:59:60","1:00:00","10:00:00+07:00"]),
 "year": ({"type":"year"}, ["2024","0","-1","24","02024","abc","10000","2024.0"]),
 "geopoint": ({"type":"geopoint"}, ["105.9, 20.5","105.9,20.5","200, 20","105.9","abc","-180, -90","180, 90","105.9 , 20.5","105.9, 91"]),
 "geopoint_array": ({"type":"geopoint","format":"array"}, ["[105.9, 20.5]","[105.9,20.5]","105.9, 20.5","[200, 1]"]),
 "email": ({"type":"string","format":"email"}, ["a@b.vn","a@","@b","a b@c.d","nguyễn@hanam.gov.vn","a@b","a.b+c@d.e"]),
 "uri": ({"type":"string","format":"uri"}, ["https://x.vn/a","x.vn","ftp://a","http://","mailto:a@b","https://hà-nam.vn","urn:isbn:123","//x.vn"]),
 "uuid": ({"type":"string","format":"uuid"}, ["550e8400-e29b-41d4-a716-446655440000","550E8400-E29B-41D4-A716-446655440000","550e8400e29b41d4a716446655440000","xyz","{550e8400-e29b-41d4-a716-446655440000}","urn:uuid:550e8400-e29b-41d4-a716-446655440000"]),
 "minlen": ({"type":"string","constraints":{"minLength":3,"maxLength":5}}, ["ab","abc","abcde","abcdef","Hà","Hàn","Hà Nam","Hà Na",""]),
 "pattern": ({"type":"string","constraints":{"pattern":"[0-9]{3}"}}, ["123","1234","a123","12","０１２",""]),
 "enum_int": ({"type":"integer","constraints":{"enum":[1,2,3]}}, ["1","2","4","01","1.0",""]),
 "enum_str": ({"type":"string","constraints":{"enum":["Hà Nam","Ninh Bình"]}}, ["Hà Nam","Ninh Bình","ha nam","Hà Nam ",""]),
 "minmax_int": ({"type":"integer","constraints":{"minimum":0,"maximum":10}}, ["0","10","-1","11","5",""]),
 "minmax_num": ({"type":"number","constraints":{"minimum":0.5,"maximum":1.5}}, ["0.5","1.5","0.4","1.6","1",""]),
 "minmax_date": ({"type":"date","constraints":{"minimum":"2020-01-01","maximum":"2024-12-31"}}, ["2020-01-01","2019-12-31","2025-01-01","2024-12-31"]),
 "required": ({"type":"string","constraints":{"required":True}}, ["a",""," ","NA"]),
 "unique": ({"type":"integer","constraints":{"unique":True}}, ["1","2","1","","","01"]),
}
disagreements = []
for name, (field, values) in cases.items():
    field = dict(field, name="v")
    schema = {"fields":[{"name":"n","type":"integer"}, field]}
    os.makedirs(name, exist_ok=True)
    with open(f"{name}/schema.json","w") as f: json.dump(schema, f, ensure_ascii=False)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["n","v"])
    for i, v in enumerate(values): w.writerow([i, v])
    with open(f"{name}/data.csv","w",encoding="utf-8") as f: f.write(buf.getvalue())
    theirs = json.loads(subprocess.run([FR,"validate","data.csv","--schema","schema.json","--json"],cwd=name,capture_output=True,text=True).stdout)
    ours = json.loads(subprocess.run([LGSP,"validate","--schema",f"{name}/schema.json",f"{name}/data.csv"],capture_output=True,text=True).stdout or "null")
    def errs(task):
        return sorted({(e.get("type"), e.get("rowNumber")) for e in task.get("errors",[])}, key=str)
    t = theirs["tasks"][0]; 
    te, oe = errs(t), errs(ours or {})
    tset, oset = set(te), set(oe)
    for side, only in (("frictionless", tset - oset), ("lgsp", oset - tset)):
        for typ, row in sorted(only, key=str):
            value = values[row - 2] if row else None
            if (name, typ, value) not in KNOWN:
                disagreements.append(f"{name}: only {side} reports {typ} on row {row} ({value!r})")
    print(f"{name}: {len(te)} errors from frictionless, {len(oe)} from lgsp")
for line in disagreements:
    print("DISAGREE", line)
sys.exit(1 if disagreements else 0)
