package v1alpha2

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// VirtualMachineBootstrapSpec selects how the guest is configured on first
// boot. CloudInit excludes LinuxPrep and Sysprep; VAppConfig goes with
// either.
type VirtualMachineBootstrapSpec struct {
	// CloudInit delivers cloud-init user data through guestinfo.
	// +optional
	CloudInit *VirtualMachineBootstrapCloudInitSpec `json:"cloudInit,omitempty"`

	// LinuxPrep customizes a Linux guest through vCenter's guest
	// customization (host name, time zone, addresses).
	// +optional
	LinuxPrep *VirtualMachineBootstrapLinuxPrepSpec `json:"linuxPrep,omitempty"`

	// Sysprep customizes a Windows guest through vCenter's guest
	// customization.
	// +optional
	Sysprep *VirtualMachineBootstrapSysprepSpec `json:"sysprep,omitempty"`

	// VAppConfig sets the image's vApp (OVF) properties.
	// +optional
	VAppConfig *VirtualMachineBootstrapVAppConfigSpec `json:"vAppConfig,omitempty"`
}

// VirtualMachineBootstrapCloudInitSpec is cloud-init bootstrap data.
type VirtualMachineBootstrapCloudInitSpec struct {
	// CloudConfig is cloud-init user data written inline; it is rendered
	// to a #cloud-config document, secrets resolved.
	// +optional
	CloudConfig *CloudConfig `json:"cloudConfig,omitempty"`

	// RawCloudConfig selects a Secret key holding cloud-init user data
	// (the "#cloud-config" document or a MIME multipart).
	// +optional
	RawCloudConfig *SecretKeySelector `json:"rawCloudConfig,omitempty"`

	// SSHAuthorizedKeys are added to the default user.
	// +optional
	SSHAuthorizedKeys []string `json:"sshAuthorizedKeys,omitempty"`

	// UseGlobalNameserversAsDefault gives interfaces without nameservers
	// spec.network.nameservers; defaults to true.
	// +optional
	UseGlobalNameserversAsDefault *bool `json:"useGlobalNameserversAsDefault,omitempty"`

	// UseGlobalSearchDomainsAsDefault gives interfaces without search
	// domains spec.network.searchDomains; defaults to true.
	// +optional
	UseGlobalSearchDomainsAsDefault *bool `json:"useGlobalSearchDomainsAsDefault,omitempty"`
}

// CloudConfig is the subset of cloud-init's #cloud-config that vm-operator
// lets a VM write inline.
type CloudConfig struct {
	// Timezone of the guest.
	// +optional
	Timezone string `json:"timezone,omitempty"`
	// DefaultUserEnabled keeps the image's default user beside users.
	// +optional
	DefaultUserEnabled bool `json:"defaultUserEnabled,omitempty"`
	// Users to create.
	// +optional
	Users []CloudConfigUser `json:"users,omitempty"`
	// RunCmd are commands run on first boot: strings or lists of strings.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	RunCmd json.RawMessage `json:"runcmd,omitempty"`
	// WriteFiles are files written on first boot.
	// +optional
	WriteFiles []CloudConfigWriteFile `json:"write_files,omitempty"`
	// SSHPwdAuth enables SSH password authentication.
	// +optional
	SSHPwdAuth *bool `json:"ssh_pwauth,omitempty"`
}

// CloudConfigUser is a user cloud-init creates.
type CloudConfigUser struct {
	// +optional
	CreateGroups *bool `json:"create_groups,omitempty"`
	// +optional
	ExpireDate *string `json:"expiredate,omitempty"`
	// +optional
	Gecos *string `json:"gecos,omitempty"`
	// +optional
	Groups []string `json:"groups,omitempty"`
	// HashedPasswd selects a Secret key holding the hashed password.
	// +optional
	HashedPasswd *SecretKeySelector `json:"hashed_passwd,omitempty"`
	// +optional
	Homedir *string `json:"homedir,omitempty"`
	// +optional
	Inactive *int32 `json:"inactive,omitempty"`
	// +optional
	LockPasswd *bool `json:"lock_passwd,omitempty"`
	// Name of the user.
	Name string `json:"name"`
	// +optional
	NoCreateHome *bool `json:"no_create_home,omitempty"`
	// +optional
	NoLogInit *bool `json:"no_log_init,omitempty"`
	// +optional
	NoUserGroup *bool `json:"no_user_group,omitempty"`
	// Passwd selects a Secret key holding the password (hashed).
	// +optional
	Passwd *SecretKeySelector `json:"passwd,omitempty"`
	// +optional
	PrimaryGroup *string `json:"primary_group,omitempty"`
	// +optional
	SELinuxUser *string `json:"selinux_user,omitempty"`
	// +optional
	Shell *string `json:"shell,omitempty"`
	// +optional
	SnapUser *string `json:"snapuser,omitempty"`
	// +optional
	SSHAuthorizedKeys []string `json:"ssh_authorized_keys,omitempty"`
	// +optional
	SSHImportID []string `json:"ssh_import_id,omitempty"`
	// +optional
	SSHRedirectUser *bool `json:"ssh_redirect_user,omitempty"`
	// +optional
	Sudo *string `json:"sudo,omitempty"`
	// +optional
	System *bool `json:"system,omitempty"`
	// +optional
	UID *int64 `json:"uid,omitempty"`
}

// CloudConfigWriteFile is a file cloud-init writes.
type CloudConfigWriteFile struct {
	// +optional
	Append bool `json:"append,omitempty"`
	// Content is the file's content: a string, or a Secret key selector
	// ({name, key}).
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	Content json.RawMessage `json:"content,omitempty"`
	// +optional
	Defer bool `json:"defer,omitempty"`
	// Encoding of content (b64, gzip, gz+b64, text/plain, ...).
	// +optional
	// +kubebuilder:validation:Enum=b64;base64;gz;gzip;"gz+b64";"gz+base64";"gzip+b64";"gzip+base64";"text/plain"
	Encoding string `json:"encoding,omitempty"`
	// +optional
	Owner string `json:"owner,omitempty"`
	// Path of the file.
	Path string `json:"path"`
	// +optional
	Permissions string `json:"permissions,omitempty"`
}

// VirtualMachineBootstrapLinuxPrepSpec is Linux guest customization.
type VirtualMachineBootstrapLinuxPrepSpec struct {
	// HardwareClockIsUTC says the hardware clock is in UTC.
	// +optional
	HardwareClockIsUTC *bool `json:"hardwareClockIsUTC,omitempty"`
	// TimeZone of the guest, e.g. America/New_York.
	// +optional
	TimeZone string `json:"timeZone,omitempty"`
}

// VirtualMachineBootstrapSysprepSpec is Windows guest customization:
// inline, or a Secret key holding an unattend XML document.
type VirtualMachineBootstrapSysprepSpec struct {
	// Sysprep is the customization written inline.
	// +optional
	Sysprep *Sysprep `json:"sysprep,omitempty"`
	// RawSysprep selects a Secret key holding an unattend XML document.
	// +optional
	RawSysprep *SecretKeySelector `json:"rawSysprep,omitempty"`
}

// Sysprep is vCenter's CustomizationSysprep with secrets by reference.
type Sysprep struct {
	// +optional
	GUIRunOnce SysprepGUIRunOnce `json:"guiRunOnce,omitempty"`
	// +optional
	GUIUnattended *SysprepGUIUnattended `json:"guiUnattended,omitempty"`
	// +optional
	Identification *SysprepIdentification `json:"identification,omitempty"`
	// +optional
	LicenseFilePrintData *SysprepLicenseFilePrintData `json:"licenseFilePrintData,omitempty"`
	// UserData names the owner of the Windows installation.
	UserData *SysprepUserData `json:"userData"`
}

// SysprepGUIRunOnce are commands run at the first interactive logon.
type SysprepGUIRunOnce struct {
	// +optional
	Commands []string `json:"commands,omitempty"`
}

// SysprepGUIUnattended are the unattended installation settings.
type SysprepGUIUnattended struct {
	// +optional
	AutoLogon bool `json:"autoLogon,omitempty"`
	// +optional
	AutoLogonCount int32 `json:"autoLogonCount,omitempty"`
	// Password of the administrator, from a Secret key.
	// +optional
	Password *SecretKeySelector `json:"password,omitempty"`
	// TimeZone is a Microsoft time zone index.
	// +optional
	TimeZone int32 `json:"timeZone,omitempty"`
}

// SysprepIdentification says which domain or workgroup the guest joins.
type SysprepIdentification struct {
	// +optional
	DomainAdmin string `json:"domainAdmin,omitempty"`
	// DomainAdminPassword from a Secret key.
	// +optional
	DomainAdminPassword *SecretKeySelector `json:"domainAdminPassword,omitempty"`
	// +optional
	JoinDomain string `json:"joinDomain,omitempty"`
	// +optional
	DomainOU string `json:"domainOU,omitempty"`
	// +optional
	JoinWorkgroup string `json:"joinWorkgroup,omitempty"`
}

// SysprepLicenseFilePrintData is Windows Server licensing.
type SysprepLicenseFilePrintData struct {
	// AutoMode is perSeat or perServer.
	// +kubebuilder:validation:Enum=perSeat;perServer
	AutoMode string `json:"autoMode"`
	// +optional
	AutoUsers *int32 `json:"autoUsers,omitempty"`
}

// SysprepUserData is the registered owner.
type SysprepUserData struct {
	// FullName of the owner.
	FullName string `json:"fullName"`
	// OrgName of the owner.
	OrgName string `json:"orgName"`
	// ProductID from a Secret key.
	// +optional
	ProductID *SecretKeySelector `json:"productID,omitempty"`
}

// VirtualMachineBootstrapVAppConfigSpec sets vApp properties: each of
// properties, or every key of the Secret rawProperties names.
type VirtualMachineBootstrapVAppConfigSpec struct {
	// Properties are vApp property keys with their values.
	// +optional
	// +listType=map
	// +listMapKey=key
	Properties []KeyValueOrSecretKeySelectorPair `json:"properties,omitempty"`
	// RawProperties names a Secret whose keys and values are the vApp
	// properties.
	// +optional
	RawProperties string `json:"rawProperties,omitempty"`
}

// VirtualMachineReadinessProbeSpec says how readiness is checked; one of
// tcpSocket, guestHeartbeat and guestInfo.
type VirtualMachineReadinessProbeSpec struct {
	// TCPSocket: ready while a TCP connection to the port can be opened.
	// +optional
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
	// GuestHeartbeat: ready while VMware Tools' heartbeat is at least the
	// threshold.
	// +optional
	GuestHeartbeat *GuestHeartbeatAction `json:"guestHeartbeat,omitempty"`
	// GuestInfo: ready while every guestinfo key is set (and its value
	// matches the regular expression, if one is given).
	// +optional
	GuestInfo []GuestInfoAction `json:"guestInfo,omitempty"`
	// TimeoutSeconds after which a probe fails; defaults to 10.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=60
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`
	// PeriodSeconds between probes; defaults to 10.
	// +optional
	// +kubebuilder:validation:Minimum=0
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`
}

// TCPSocketAction opens a TCP connection.
type TCPSocketAction struct {
	// Port to connect to.
	Port intstr.IntOrString `json:"port"`
	// Host to connect to; the VM's primary IP when empty.
	// +optional
	Host string `json:"host,omitempty"`
}

// GuestHeartbeatStatus is VMware Tools' heartbeat colour.
// +kubebuilder:validation:Enum=gray;red;yellow;green
type GuestHeartbeatStatus string

// Heartbeat colours, worst first.
const (
	GrayHeartbeatStatus   GuestHeartbeatStatus = "gray"
	RedHeartbeatStatus    GuestHeartbeatStatus = "red"
	YellowHeartbeatStatus GuestHeartbeatStatus = "yellow"
	GreenHeartbeatStatus  GuestHeartbeatStatus = "green"
)

// GuestHeartbeatAction checks VMware Tools' heartbeat.
type GuestHeartbeatAction struct {
	// ThresholdStatus is the worst heartbeat still ready; defaults to green.
	// +optional
	ThresholdStatus GuestHeartbeatStatus `json:"thresholdStatus,omitempty"`
}

// GuestInfoAction checks a guestinfo key.
type GuestInfoAction struct {
	// Key without the "guestinfo." prefix.
	Key string `json:"key"`
	// Value is a regular expression the value must match; empty matches any.
	// +optional
	Value string `json:"value,omitempty"`
}
