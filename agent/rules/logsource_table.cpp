// Generated from logsources.yaml by scripts/gen-logsource-table.py: edit the YAML and run it.
// Compiled in because parsing the YAML at every start cost a twentieth of a short scan; the test
// LogsourceMap.CompiledTableSaysWhatTheYamlSays keeps the two equal.
#include "rules/compile.hpp"

namespace sw::rules {
namespace {

using Sources = std::vector<LogSource>;

LogSource on(std::vector<std::string> channels, std::vector<std::uint32_t> event_ids = {},
             std::vector<std::pair<std::string, std::string>> conditions = {},
             std::map<std::string, std::string> fieldmap = {}) {
  return LogSource{std::move(channels), std::move(event_ids), std::move(conditions),
                   std::move(fieldmap)};
}

}  // namespace

LogsourceMap LogsourceMap::compiled() {
  LogsourceMap m;
  {
    Product& p = m.products_["windows"];
    p.services["security"] = {on({"Security"})};
    p.services["system"] = {on({"System"})};
    p.services["application"] = {on({"Application"})};
    p.services["sysmon"] = {on({"Microsoft-Windows-Sysmon/Operational"})};
    p.services["powershell"] = {
        on({"Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"})};
    p.services["powershell-classic"] = {on({"Windows PowerShell"})};
    p.services["terminalservices-localsessionmanager"] = {
        on({"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"})};
    p.services["terminalservices-remoteconnectionmanager"] = {
        on({"Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"})};
    p.services["remotedesktopservices-rdpcorets"] = {
        on({"Microsoft-Windows-RemoteDesktopServices-RdpCoreTS/Operational"})};
    p.services["winlogon"] = {on({"Microsoft-Windows-Winlogon/Operational"})};
    p.services["user-profile-service"] = {
        on({"Microsoft-Windows-User Profile Service/Operational"})};
    p.services["ntlm"] = {on({"Microsoft-Windows-NTLM/Operational"})};
    p.services["taskscheduler"] = {on({"Microsoft-Windows-TaskScheduler/Operational"})};
    p.services["wmi"] = {on({"Microsoft-Windows-WMI-Activity/Operational"})};
    p.services["dhcp"] = {on({"Microsoft-Windows-DHCP-Server/Operational"})};
    p.services["dns-server"] = {on({"DNS Server"})};
    p.services["dns-server-analytic"] = {on({"Microsoft-Windows-DNS-Server/Analytical"})};
    p.services["dns-client"] = {on({"Microsoft-Windows-DNS Client Events/Operational"})};
    p.services["driver-framework"] = {
        on({"Microsoft-Windows-DriverFrameworks-UserMode/Operational"})};
    p.services["printservice-admin"] = {on({"Microsoft-Windows-PrintService/Admin"})};
    p.services["printservice-operational"] = {on({"Microsoft-Windows-PrintService/Operational"})};
    p.services["smbclient-security"] = {on({"Microsoft-Windows-SmbClient/Security"})};
    p.services["smbclient-connectivity"] = {on({"Microsoft-Windows-SmbClient/Connectivity"})};
    p.services["smbserver-connectivity"] = {on({"Microsoft-Windows-SMBServer/Connectivity"})};
    p.services["codeintegrity-operational"] = {on({"Microsoft-Windows-CodeIntegrity/Operational"})};
    p.services["applocker"] = {
        on({"Microsoft-Windows-AppLocker/MSI and Script", "Microsoft-Windows-AppLocker/EXE and DLL",
            "Microsoft-Windows-AppLocker/Packaged app-Deployment",
            "Microsoft-Windows-AppLocker/Packaged app-Execution"})};
    p.services["msexchange-management"] = {on({"MSExchange Management"})};
    p.services["windefend"] = {on({"Microsoft-Windows-Windows Defender/Operational"}, {}, {},
                                  {{"ThreatName", "Threat Name"},
                                   {"ThreatID", "Threat ID"},
                                   {"ProcessName", "Process Name"},
                                   {"SourceName", "Source Name"},
                                   {"SeverityName", "Severity Name"},
                                   {"CategoryName", "Category Name"},
                                   {"DetectionUser", "Detection User"},
                                   {"ActionName", "Action Name"},
                                   {"ErrorCode", "Error Code"},
                                   {"ErrorDescription", "Error Description"},
                                   {"DetectionID", "Detection ID"},
                                   {"DetectionTime", "Detection Time"},
                                   {"EngineVersion", "Engine Version"},
                                   {"ProductVersion", "Product Version"},
                                   {"SignatureVersion", "Signature Version"}})};
    p.services["firewall-as"] = {
        on({"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"})};
    p.services["bits-client"] = {on({"Microsoft-Windows-Bits-Client/Operational"})};
    p.services["security-mitigations"] = {on({"Microsoft-Windows-Security-Mitigations/Kernel Mode",
                                              "Microsoft-Windows-Security-Mitigations/User Mode"})};
    p.services["diagnosis-scripted"] = {on({"Microsoft-Windows-Diagnosis-Scripted/Operational"})};
    p.services["shell-core"] = {on({"Microsoft-Windows-Shell-Core/Operational"})};
    p.services["openssh"] = {on({"OpenSSH/Operational"})};
    p.services["ldap"] = {on({"Microsoft-Windows-LDAP-Client/Debug"})};
    p.services["bitlocker"] = {on({"Microsoft-Windows-BitLocker/BitLocker Management"})};
    p.services["vhdmp"] = {on({"Microsoft-Windows-VHDMP/Operational"})};
    p.services["appxdeployment-server"] = {
        on({"Microsoft-Windows-AppXDeploymentServer/Operational"})};
    p.services["lsa-server"] = {on({"Microsoft-Windows-LSA/Operational"})};
    p.services["appxpackaging-om"] = {on({"Microsoft-Windows-AppxPackaging/Operational"})};
    p.services["appmodel-runtime"] = {on({"Microsoft-Windows-AppModel-Runtime/Admin"})};
    p.services["capi2"] = {on({"Microsoft-Windows-CAPI2/Operational"})};
    p.services["certificateservicesclient-lifecycle-system"] = {
        on({"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"})};
    p.services["kernel-shimengine"] = {on({"Microsoft-Windows-Kernel-ShimEngine/Operational",
                                           "Microsoft-Windows-Kernel-ShimEngine/Diagnostic"})};
    p.services["application-experience"] = {
        on({"Microsoft-Windows-Application-Experience/Program-Telemetry",
            "Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant"})};
    p.services["ntfs"] = {on({"Microsoft-Windows-Ntfs/Operational"})};
    p.services["hyper-v-worker"] = {on({"Microsoft-Windows-Hyper-V-Worker"})};
    p.services["kernel-event-tracing"] = {on({"Microsoft-Windows-Kernel-EventTracing"})};
    p.services["sense"] = {on({"Microsoft-Windows-SENSE/Operational"})};
    p.services["servicebus-client"] = {
        on({"Microsoft-ServiceBus-Client/Admin", "Microsoft-ServiceBus-Client/Operational"})};
    p.services["microsoft-servicebus-client"] = {
        on({"Microsoft-ServiceBus-Client/Admin", "Microsoft-ServiceBus-Client/Operational"})};
    p.services["iis-configuration"] = {on({"Microsoft-IIS-Configuration/Operational"})};
    p.categories["process_creation"] = {
        on({"Microsoft-Windows-Sysmon/Operational"}, {1}),
        on({"Security"}, {4688}, {},
           {{"Image", "NewProcessName"}, {"ParentImage", "ParentProcessName"}})};
    p.categories["file_change"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {2})};
    p.categories["network_connection"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {3})};
    p.categories["sysmon_status"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {4, 16})};
    p.categories["process_termination"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {5})};
    p.categories["driver_load"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {6})};
    p.categories["image_load"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {7})};
    p.categories["create_remote_thread"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {8})};
    p.categories["raw_access_thread"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {9})};
    p.categories["process_access"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {10})};
    p.categories["file_event"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {11})};
    p.categories["registry_event"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {12, 13, 14})};
    p.categories["registry_add"] = {
        on({"Microsoft-Windows-Sysmon/Operational"}, {12}, {{"EventType", "CreateKey"}})};
    p.categories["registry_delete"] = {
        on({"Microsoft-Windows-Sysmon/Operational"}, {12}, {{"EventType", "DeleteKey"}}),
        on({"Microsoft-Windows-Sysmon/Operational"}, {12}, {{"EventType", "DeleteValue"}})};
    p.categories["registry_set"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {13})};
    p.categories["registry_rename"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {14})};
    p.categories["create_stream_hash"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {15})};
    p.categories["pipe_created"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {17, 18})};
    p.categories["wmi_event"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {19, 20, 21})};
    p.categories["dns_query"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {22})};
    p.categories["file_delete"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {23})};
    p.categories["clipboard_change"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {24})};
    p.categories["process_tampering"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {25})};
    p.categories["file_delete_detected"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {26})};
    p.categories["file_block_executable"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {27})};
    p.categories["file_block_shredding"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {28})};
    p.categories["file_executable_detected"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {29})};
    p.categories["sysmon_error"] = {on({"Microsoft-Windows-Sysmon/Operational"}, {255})};
    p.categories["ps_module"] = {
        on({"Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"}, {4103})};
    p.categories["ps_script"] = {
        on({"Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"}, {4104})};
    p.categories["ps_classic_start"] = {on({"Windows PowerShell"}, {400})};
    p.categories["ps_classic_provider_start"] = {on({"Windows PowerShell"}, {600})};
    p.categories["ps_classic_script"] = {on({"Windows PowerShell"}, {800})};
    p.categories["antivirus"] = {
        on({"Microsoft-Windows-Windows Defender/Operational"},
           {1006, 1007, 1008, 1009, 1010, 1011, 1012, 1017, 1018, 1019, 1115, 1116}, {},
           {{"Signature", "Threat Name"},
            {"Filename", "Path"},
            {"ThreatName", "Threat Name"},
            {"ProcessName", "Process Name"},
            {"SourceName", "Source Name"}})};
  }
  {
    Product& p = m.products_["sessionwatch"];
    p.any = Sources{on({"sessionwatch"})};
  }
  return m;
}

}  // namespace sw::rules
