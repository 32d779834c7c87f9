"""One module per wizard screen; SCREENS maps the names installer.wizard uses to their classes."""
from .eula import EulaScreen
from .guest_disks import GuestDisksScreen
from .hardware import HardwareScreen
from .hostname_dns import HostnameDnsScreen
from .install_type import InstallTypeScreen
from .keymap import KeymapScreen
from .network import NetworkScreen
from .nic import NicScreen
from .ntp import NtpScreen
from .password import PasswordScreen
from .primary_disk import PrimaryDiskScreen
from .raid import RaidScreen
from .secure_boot import SecureBootScreen
from .source import SourceScreen
from .sr_type import SRTypeScreen
from .summary import SummaryScreen
from .timezone import TimezoneScreen
from .verify import VerifyScreen
from .welcome import WelcomeScreen

SCREENS = {cls.name: cls for cls in (
    KeymapScreen, WelcomeScreen, SecureBootScreen, EulaScreen, HardwareScreen, InstallTypeScreen,
    PrimaryDiskScreen, RaidScreen, GuestDisksScreen, SRTypeScreen, PasswordScreen, NicScreen, NetworkScreen,
    HostnameDnsScreen, TimezoneScreen, NtpScreen, SourceScreen, VerifyScreen, SummaryScreen)}
