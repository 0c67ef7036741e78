<#
.SYNOPSIS
  Installs sessionwatch as a Windows service from the unpacked ZIP.
.DESCRIPTION
  Copies sessionwatch.exe to "%ProgramFiles%\sessionwatch", creates
  "%ProgramData%\sessionwatch" (config, rules, data, logs, alerts) with ACLs that let only
  Administrators, SYSTEM and the service account write there, keeps an existing configuration,
  adds the service account to "Event Log Readers" and registers the service
  (automatic delayed start, restart on failure). Run from an elevated PowerShell:
    powershell -ExecutionPolicy Bypass -File .\install.ps1 [-Account "NT AUTHORITY\LocalService"] [-NoStart]
  Uninstall: .\install.ps1 -Uninstall   (keeps %ProgramData%\sessionwatch unless -Purge)
  With -Account, prefer a group managed service account (DOMAIN\name$: no password); for an
  ordinary account the password is prompted for and handed to sessionwatch.exe on its standard
  input, never on a command line (command lines land in 4688 and Sysmon 1 events).
#>
[CmdletBinding()]
param(
  # Default: the service's own virtual account, NT SERVICE\<ServiceName>: its rights (Event Log
  # Readers, the ProgramData folders) are granted to this service alone, not to every service
  # running as the shared LocalService.
  [string]$Account = "",
  [string]$ServiceName = "sessionwatch",
  [switch]$NoStart,
  [switch]$Uninstall,
  [switch]$Purge
)
$ErrorActionPreference = "Stop"

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw "Run this script from an elevated PowerShell (Run as administrator)."
}

$source = Split-Path -Parent $MyInvocation.MyCommand.Path
$programDir = Join-Path $env:ProgramFiles "sessionwatch"
$dataRoot = Join-Path $env:ProgramData "sessionwatch"
$exe = Join-Path $programDir "sessionwatch.exe"
if (-not $Account) { $Account = "NT SERVICE\$ServiceName" }
$virtualAccount = $Account -eq "NT SERVICE\$ServiceName"

function Invoke-Sessionwatch([string[]]$Arguments) {
  & $exe @Arguments
  if ($LASTEXITCODE -ne 0) { throw "sessionwatch $($Arguments -join ' ') failed ($LASTEXITCODE)" }
}

# Well-known SIDs: account and group names are localized.
$AdministratorsSid = New-Object Security.Principal.SecurityIdentifier("S-1-5-32-544")
$SystemSid = New-Object Security.Principal.SecurityIdentifier("S-1-5-18")
$EventLogReadersSid = New-Object Security.Principal.SecurityIdentifier("S-1-5-32-573")
$readers = $EventLogReadersSid.Translate([Security.Principal.NTAccount]).Value.Split("\")[-1]

if ($Uninstall) {
  $service = Get-CimInstance Win32_Service -Filter "Name='$ServiceName'" -ErrorAction SilentlyContinue
  if (Test-Path $exe) {
    & $exe service uninstall --name $ServiceName
  }
  # `service uninstall` drains and stops the service; wait for its process to be gone, or the
  # program stays in use and is left behind.
  if ($service -and $service.ProcessId) {
    Wait-Process -Id $service.ProcessId -Timeout 90 -ErrorAction SilentlyContinue
  }
  if ($service -and $service.StartName) {
    try {
      Remove-LocalGroupMember -SID $EventLogReadersSid -Member $service.StartName -ErrorAction Stop
    } catch {
      Write-Verbose "the service account was not in '$readers': $($_.Exception.Message)"
    }
  }
  Remove-Item -Recurse -Force $programDir -ErrorAction SilentlyContinue
  if (Test-Path $programDir) { Write-Warning "$programDir could not be removed completely" }
  if ($Purge) { Remove-Item -Recurse -Force $dataRoot -ErrorAction SilentlyContinue }
  Write-Host "sessionwatch uninstalled$(if (-not $Purge) { "; $dataRoot kept" })"
  return
}

# Stop a running copy before replacing its executable.
$existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($existing) {
  if ($existing.Status -ne "Stopped") { & $exe service stop --name $ServiceName }
}

New-Item -ItemType Directory -Force -Path $programDir | Out-Null
Copy-Item -Force (Join-Path $source "bin\sessionwatch.exe") $exe

foreach ($dir in @("", "rules", "data", "logs", "alerts")) {
  New-Item -ItemType Directory -Force -Path (Join-Path $dataRoot $dir) | Out-Null
}
$config = Join-Path $dataRoot "sessionwatch.yaml"
if (-not (Test-Path $config)) {
  Copy-Item (Join-Path $source "config\sessionwatch.yaml") $config
} else {
  Write-Host "keeping the existing $config"
}
$rules = Join-Path $source "rules"
if (Test-Path $rules) {
  Copy-Item -Recurse -Force (Join-Path $rules "*") (Join-Path $dataRoot "rules")
}

if (-not $existing) {
  $installArgs = @("service", "install", "--name", $ServiceName, "--config", $config)
  $plain = $null
  $installArgs += @("--account", $Account)
  if (-not $virtualAccount) {
    if (-not $Account.EndsWith('$')) {  # a gMSA has no password
      $password = Read-Host -AsSecureString "Password for $Account"
      $plain = [Runtime.InteropServices.Marshal]::PtrToStringAuto([Runtime.InteropServices.Marshal]::SecureStringToBSTR($password))
      $installArgs += @("--password-stdin")
    }
  }
  if ($plain) {
    $plain | & $exe @installArgs
    if ($LASTEXITCODE -ne 0) { throw "sessionwatch service install failed ($LASTEXITCODE)" }
  } else {
    Invoke-Sessionwatch $installArgs
  }
}

# After the service exists (a virtual account resolves only then), by SID: names are localized.
$AccountSid = (New-Object Security.Principal.NTAccount($Account)).Translate([Security.Principal.SecurityIdentifier])
# ACLs: no inheritance from ProgramData (where Users may create files); Administrators and SYSTEM
# full control; the service account reads the config and rules and writes data, logs, alerts;
# ordinary users get nothing (alerts name accounts and computers).
function Set-Acl-For([string]$Path, [string]$ServiceRights) {
  $acl = New-Object Security.AccessControl.DirectorySecurity
  $acl.SetAccessRuleProtection($true, $false)
  $inherit = [Security.AccessControl.InheritanceFlags]"ContainerInherit,ObjectInherit"
  $none = [Security.AccessControl.PropagationFlags]::None
  foreach ($who in @($AdministratorsSid, $SystemSid)) {
    $acl.AddAccessRule((New-Object Security.AccessControl.FileSystemAccessRule($who, "FullControl", $inherit, $none, "Allow")))
  }
  $acl.AddAccessRule((New-Object Security.AccessControl.FileSystemAccessRule($AccountSid, $ServiceRights, $inherit, $none, "Allow")))
  Set-Acl -Path $Path -AclObject $acl
}
Set-Acl-For $dataRoot "ReadAndExecute"
foreach ($dir in @("data", "logs", "alerts")) { Set-Acl-For (Join-Path $dataRoot $dir) "Modify" }

# Reading the Security log needs "Event Log Readers" (S-1-5-32-573; its name is localized).
try {
  Add-LocalGroupMember -SID $EventLogReadersSid -Member $AccountSid -ErrorAction Stop
} catch [Microsoft.PowerShell.Commands.MemberExistsException] {
} catch {
  Write-Warning "could not add $Account to '$readers': $($_.Exception.Message)"
}

# Check the configuration before starting, so a typo is reported here, not in the service log.
Invoke-Sessionwatch @("check", "--config", $config)
if (-not $NoStart) { Invoke-Sessionwatch @("service", "start", "--name", $ServiceName) }
Invoke-Sessionwatch @("service", "status", "--name", $ServiceName)
