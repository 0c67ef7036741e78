#!/usr/bin/env python3
"""Writes agent/cli/sample/sample_events.xml: the bundled demo, a crafted (not captured) day on one
workstation where a console user blocks remote logons. Shapes follow what Windows renders for
each event; names, addresses and ids are invented."""
import sys

NS = "http://schemas.microsoft.com/win/2004/08/events/event"
HOST = "WS-FIN-07.corp.example"
PROVIDERS = {
    "Security": ("Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-A5BA-3E3B0328C30D}"),
    "LSM": ("Microsoft-Windows-TerminalServices-LocalSessionManager", "{5D896912-022D-40AA-A3A8-4FA5515C76D7}"),
    "RCM": ("Microsoft-Windows-TerminalServices-RemoteConnectionManager", "{C76BAA63-AE81-421C-B425-340B4B24157F}"),
    "Winlogon": ("Microsoft-Windows-Winlogon", "{DBE9B383-7CF3-4331-91CC-A3CB16A3B538}"),
}
CHANNELS = {
    "Security": "Security",
    "LSM": "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
    "RCM": "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational",
    "Winlogon": "System",
}
records = {}
out = []


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def event(kind, eid, time, data=None, user_data=None, activity=None, provider=None, channel=None,
          level=4, keywords="0x8020000000000000", user_sid=None, message=None):
    name, guid = provider or PROVIDERS[kind]
    chan = channel or CHANNELS[kind]
    records[chan] = records.get(chan, 1000) + 1
    corr = f'<Correlation ActivityID="{activity}"/>' if activity else "<Correlation/>"
    sec = f'<Security UserID="{user_sid}"/>' if user_sid else "<Security/>"
    guid_attr = f' Guid="{guid}"' if guid else ""
    x = [f'<Event xmlns="{NS}"><System><Provider Name="{name}"{guid_attr}/>',
         f"<EventID>{eid}</EventID><Version>0</Version><Level>{level}</Level><Task>0</Task>",
         f"<Opcode>0</Opcode><Keywords>{keywords}</Keywords>",
         f'<TimeCreated SystemTime="2026-11-20T{time}Z"/><EventRecordID>{records[chan]}</EventRecordID>',
         f'{corr}<Execution ProcessID="712" ThreadID="1204"/><Channel>{chan}</Channel>',
         f"<Computer>{HOST}</Computer>{sec}</System>"]
    if user_data is not None:
        x.append('<UserData><EventXML xmlns="Event_NS">')
        x += [f"<{k}>{esc(v)}</{k}>" for k, v in user_data]
        x.append("</EventXML></UserData>")
    else:
        x.append("<EventData>")
        x += [f'<Data Name="{k}">{esc(v)}</Data>' if k else f"<Data>{esc(v)}</Data>"
              for k, v in (data or [])]
        x.append("</EventData>")
    if message:
        x.append(f"<RenderingInfo Culture=\"en-US\"><Message>{esc(message)}</Message></RenderingInfo>")
    x.append("</Event>")
    out.append("".join(x))


ALICE_SID = "S-1-5-21-3623811015-3361044348-30300820-1104"
BOB_SID = "S-1-5-21-3623811015-3361044348-30300820-1107"


def logon(time, user, sid, logon_type, logon_id, ip="-", workstation="WS-FIN-07"):
    event("Security", 4624, time, data=[
        ("SubjectUserSid", "S-1-5-18"), ("SubjectUserName", "WS-FIN-07$"), ("SubjectDomainName", "CORP"),
        ("SubjectLogonId", "0x3e7"), ("TargetUserSid", sid), ("TargetUserName", user),
        ("TargetDomainName", "CORP"), ("TargetLogonId", logon_id), ("LogonType", str(logon_type)),
        ("LogonProcessName", "User32 "), ("AuthenticationPackageName", "Negotiate"),
        ("WorkstationName", workstation), ("ProcessName", "C:\\Windows\\System32\\svchost.exe"),
        ("IpAddress", ip), ("IpPort", "0")])


def logoff(time, user, sid, logon_type, logon_id):
    event("Security", 4634, time, data=[("TargetUserSid", sid), ("TargetUserName", user),
                                        ("TargetDomainName", "CORP"), ("TargetLogonId", logon_id),
                                        ("LogonType", str(logon_type))])


def refused_rdp(t0, user, sid, ip, logon_id, session_id, activity):
    h, m, s = t0
    ts = lambda ds: f"{h:02d}:{m:02d}:{s + ds:02d}.{100000 * (ds + 1):07d}"
    event("RCM", 1149, ts(0), user_data=[("Param1", user), ("Param2", "CORP"), ("Param3", ip)],
          keywords="0x1000000000000000")
    logon(ts(1), user, sid, 10, logon_id, ip=ip, workstation="LAPTOP-" + user.upper())
    event("LSM", 41, ts(1), user_data=[("User", f"CORP\\{user}"), ("SessionID", str(session_id))],
          activity=activity, keywords="0x1000000000000000", user_sid="S-1-5-18")
    event("LSM", 42, ts(3), user_data=[("User", f"CORP\\{user}"), ("SessionID", str(session_id))],
          activity=activity, keywords="0x1000000000000000", user_sid="S-1-5-18")
    event("LSM", 40, ts(3), user_data=[("Session", str(session_id)), ("Reason", "0")],
          activity=activity, keywords="0x1000000000000000", user_sid="S-1-5-18")
    logoff(ts(4), user, sid, 10, logon_id)


# 08:01 alice logs on at the console.
logon("08:01:10.1234567", "alice", ALICE_SID, 2, "0x5a1f2")
event("Winlogon", 7001, "08:01:11.0000000", data=[("TSId", "1"), ("UserSid", ALICE_SID)],
      keywords="0x2000000000000000", user_sid="S-1-5-18")
event("LSM", 21, "08:01:12.5000000", user_data=[("User", "CORP\\alice"), ("SessionID", "1"), ("Address", "LOCAL")],
      activity="{6A3F0E11-2B7C-4D4E-9A10-000000000001}", keywords="0x1000000000000000", user_sid="S-1-5-18")
event("LSM", 22, "08:01:13.0000000", user_data=[("User", "CORP\\alice"), ("SessionID", "1"), ("Address", "LOCAL")],
      activity="{6A3F0E11-2B7C-4D4E-9A10-000000000001}", keywords="0x1000000000000000", user_sid="S-1-5-18")
# 12:15 alice locks the workstation and goes to lunch.
event("Security", 4800, "12:15:00.0000000", data=[("TargetUserSid", ALICE_SID), ("TargetUserName", "alice"),
      ("TargetDomainName", "CORP"), ("TargetLogonId", "0x5a1f2"), ("SessionId", "1")])
# 13:02 bob (helpdesk, not an admin of this box) tries RDP: arbitration begins and ends, no session.
refused_rdp((13, 2, 5), "bob", BOB_SID, "10.20.30.41", "0x7b3c1", 2, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000002}")
# 13:03 bob's remote-management script tries to log the console user off and logs the error.
event(None, 1001, "13:03:30.0000000", provider=("HelpdeskTools", None), channel="Application", level=2,
      keywords="0x80000000000000",
      data=[(None, "logoff /server:WS-FIN-07 1"),
            (None, "Error [7063]:The user CORP\\alice is already logged on to the console of this computer. "
                   "You do not have permission to log in at this time. To resolve this issue, contact "
                   "CORP\\alice and have them log off.")])
# 13:20 bob tries again.
refused_rdp((13, 20, 40), "bob", BOB_SID, "10.20.30.41", "0x7c002", 3, "{9C1D2E3F-4A5B-4C6D-8E9F-000000000003}")
# 14:05 an inventory agent fails with the HRESULT of the same error.
event(None, 3002, "14:05:00.0000000", provider=("InventoryAgent", None), channel="Application", level=2,
      keywords="0x80000000000000",
      data=[("Operation", "OpenConsoleSession"), ("Account", "CORP\\svc-inventory"), ("HResult", "0x80071B97")])
# 17:40 alice comes back, unlocks, logs off.
event("Security", 4801, "17:40:00.0000000", data=[("TargetUserSid", ALICE_SID), ("TargetUserName", "alice"),
      ("TargetDomainName", "CORP"), ("TargetLogonId", "0x5a1f2"), ("SessionId", "1")])
event("Security", 4647, "17:45:00.0000000", data=[("TargetUserSid", ALICE_SID), ("TargetUserName", "alice"),
      ("TargetDomainName", "CORP"), ("TargetLogonId", "0x5a1f2")])
event("LSM", 23, "17:45:01.0000000", user_data=[("User", "CORP\\alice"), ("SessionID", "1")],
      keywords="0x1000000000000000", user_sid="S-1-5-18")
logoff("17:45:02.0000000", "alice", ALICE_SID, 2, "0x5a1f2")
event("Winlogon", 7002, "17:45:02.5000000", data=[("TSId", "1"), ("UserSid", ALICE_SID)],
      keywords="0x2000000000000000", user_sid="S-1-5-18")

with open(sys.argv[1] if len(sys.argv) > 1 else "agent/cli/sample/sample_events.xml", "w") as f:
    f.write("<Events>\n" + "\n".join(out) + "\n</Events>\n")
