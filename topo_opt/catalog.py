"""Named parts with published figures and their source tags (see instances/FACTS.md).

Every entry carries `sources` (tags into instances/FACTS.md) and `assumptions` (the fields whose values are
not published and were chosen by us). An instance names parts by these keys or gives them inline.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChipType:
    name: str
    tdp_w: float
    interconnect_GBps: float  # per direction, all ports together
    lanes: int  # interconnect lanes (ports of one lane each)
    memory_gb: float = 0.0
    compute_tflops_fp8: float = 0.0
    sources: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    # system cost per chip (the chip with its share of boards, memory, hosts and chassis), for the
    # network's cost share; 0 = not given (an inline chip)
    cost_usd: float = field(default=0.0, metadata={"min": 0})
    # for `train`: dense 16-bit peak and HBM bandwidth; 0 = not given
    compute_tflops_bf16: float = field(default=0.0, metadata={"min": 0})
    memory_GBps: float = field(default=0.0, metadata={"min": 0})

    @property
    def lane_GBps(self) -> float:
        return self.interconnect_GBps / self.lanes


@dataclass(frozen=True)
class SwitchType:
    name: str
    radix: int  # ports
    port_GBps: float  # per direction
    power_w: float
    cost_usd: float
    high_radix: bool
    sources: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class MediumType:
    """A cable or an optical link; `kind` is copper, active-copper or optics.

    A cable of length L costs cost_usd + cost_usd_per_m x L: `cost_usd` is its fixed parts (both
    ends' connectors, retimers or optical modules), `cost_usd_per_m` the copper or fibre itself.
    `power_w` is per cable end to end, both ends' modules included (the fibre draws nothing).
    `optical_modules` is the number of transceivers one cable needs (2 for optics, 0 for copper).
    """

    name: str
    kind: str
    reach_m: float
    bandwidth_GBps: float  # per direction, per cable
    power_w: float
    cost_usd: float
    optical_modules: int = 0
    sources: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = field(default=())
    cost_usd_per_m: float = field(default=0.0, metadata={"min": 0})

    def cable_cost_usd(self, length_m: float) -> float:
        return self.cost_usd + self.cost_usd_per_m * length_m


MEDIUM_KINDS = ("copper", "active-copper", "optics")

# No accelerator system price is published in instances/FACTS.md: every cost_usd is an assumption. Ascend:
# H100-class systems sell for about 25,000 USD per GPU, taken for every Ascend generation.
_ASCEND_COST = "cost_usd: an H100-class system's price per GPU (no Ascend price is published)"
# No 16-bit peak is published for these parts: half the FP8 figure, as on every FP8 tensor core
_HALF_FP8 = "compute_tflops_bf16: half the FP8 peak"
CHIPS: dict[str, ChipType] = {c.name: c for c in (
    ChipType("ascend-910c", 600, 392, 28, 128, 0, ("C1", "H6"),
             ("tdp_w", "lanes: 28 UB lanes of 14 GB/s", _ASCEND_COST), 25_000,
             compute_tflops_bf16=752, memory_GBps=3200),
    ChipType("ascend-950pr", 700, 2000, 72, 128, 1000, ("H1", "H6", "H7", "U1"),
             ("tdp_w", "lanes: x72 as the UB-Mesh NPU", _ASCEND_COST, _HALF_FP8), 25_000,
             compute_tflops_bf16=500, memory_GBps=1600),
    ChipType("ascend-950dt", 800, 2000, 72, 144, 1000, ("H1", "H6", "H7", "U1"),
             ("tdp_w", "lanes: x72 as the UB-Mesh NPU", _ASCEND_COST, _HALF_FP8), 25_000,
             compute_tflops_bf16=500, memory_GBps=4000),
    ChipType("ascend-960", 1000, 2200, 72, 288, 2000, ("H3", "H6", "U1"),
             ("tdp_w", "lanes: x72 as the UB-Mesh NPU", _ASCEND_COST, _HALF_FP8,
              "memory_GBps: 9.6 TB/s, Huawei's roadmap figure, not in FACTS.md"), 25_000,
             compute_tflops_bf16=1000, memory_GBps=9600),
    ChipType("nvidia-h20", 400, 450, 18, 96, 296, ("N1",),
             ("interconnect_GBps: NVLink 900 GB/s counted as 450 per direction", "lanes: 18 NVLink links",
              "cost_usd: below H100-class (a cut-down part), with its share of an 8-GPU server", _HALF_FP8),
             20_000, compute_tflops_bf16=148, memory_GBps=4000),
    # Megatron-LM's validation runs (Selene): A100 SXM 80 GB, 312 TFLOPS dense BF16, 2,039 GB/s HBM2e,
    # NVLink 3 at 600 GB/s both directions over 12 links [A1, M1]
    ChipType("nvidia-a100-80gb", 400, 300, 12, 80, 0, ("A1", "M1"),
             ("interconnect_GBps: NVLink 600 GB/s counted as 300 per direction",
              "cost_usd: an 8-GPU server's share"), 15_000, compute_tflops_bf16=312, memory_GBps=2039),
    ChipType("rtx-pro-6000d", 600, 64, 1, 84, 0, ("N2", "N3"),
             ("interconnect_GBps: PCIe Gen5 x16 ~64 GB/s per direction",
              "cost_usd: a PCIe card with its share of a server"), 12_000),
    ChipType("b200-class", 1000, 900, 18, 192, 4500, ("N4",),
             ("tdp_w", "memory_gb", "compute_tflops_fp8", "1.8 TB/s NVLink counted as 900 per direction",
              "cost_usd: with its share of an NVL72 rack", _HALF_FP8, "memory_GBps"), 45_000,
             compute_tflops_bf16=2250, memory_GBps=8000),
    ChipType("tpu-v4", 192, 300, 6, 32, 0, ("G1",),
             ("tdp_w", "interconnect_GBps: 6 links x 50 GB/s",
              "cost_usd: TPUs are not sold; a system share like a PCIe accelerator's"), 10_000,
             compute_tflops_bf16=275, memory_GBps=1200),
)}

SWITCHES: dict[str, SwitchType] = {s.name: s for s in (
    SwitchType("ub-lrs", 72, 2000 / 72, 300, 8000, False, ("U1",),
               ("radix", "power_w", "cost_usd")),
    SwitchType("ub-hrs", 512, 2000 / 72, 2500, 120000, True, ("U1",),
               ("radix", "power_w", "cost_usd")),
    SwitchType("eth-800g-64", 64, 100, 1800, 200000, True, ("O7",),
               ("power_w",)),
    SwitchType("eth-51t-128x400g", 128, 50, 1800, 200000, True, ("O7",),
               ("radix and port_GBps: the 51.2T ASIC of eth-800g-64 split as 128 x 400G",
                "power_w and cost_usd: as eth-800g-64 (same ASIC and box; optics not included)")),
    SwitchType("nvswitch", 72, 25, 400, 30000, False, ("N4",),
               ("power_w", "cost_usd")),
)}

# Per-metre prices are assumptions (no source in instances/FACTS.md): a 100G-lane twinax DAC adds
# about 20 USD per metre to its connectors; an AEC's retimers dominate, its copper adds 10 USD/m; a
# multi-fibre MPO trunk costs about 3 USD/m in multimode (OM4, SR reach class) and 2 USD/m in
# single-mode (DR/FR reach class). Module prices follow [O7]: 800G DR8 1,100-1,400 USD each; SR8
# (multimode, 100 m [O4]) is taken at 900 USD, below DR8 as multimode optics are.
_PER_M = "cost_usd_per_m: assumed (cable or fibre trunk price per metre)"
MEDIA: dict[str, MediumType] = {m.name: m for m in (
    MediumType("dac", "copper", 2.0, 100, 0.2, 80, 0, ("O1",), ("cost_usd", "bandwidth_GBps", _PER_M),
               cost_usd_per_m=20),
    MediumType("aec", "active-copper", 7.0, 100, 12, 330, 0, ("O2",),
               ("power_w: a few W per end", "cost_usd", _PER_M), cost_usd_per_m=10),
    MediumType("optics-400g", "optics", 100.0, 50, 18, 1400, 2, ("O4", "O7"),
               ("cost_usd: two 700 USD SR4 modules", _PER_M), cost_usd_per_m=3),
    MediumType("optics-800g-sr8", "optics", 100.0, 100, 30, 1800, 2, ("O4",),
               ("cost_usd: two SR8 modules at 900 USD (no SR8 price is published)", _PER_M),
               cost_usd_per_m=3),
    MediumType("optics-800g", "optics", 500.0, 100, 34, 2500, 2, ("O4", "O7"),
               ("cost_usd: two DR8 modules at 1,250 USD", _PER_M), cost_usd_per_m=2),
    MediumType("optics-1.6t", "optics", 500.0, 200, 50, 4400, 2, ("O6",), ("reach_m", "cost_usd", _PER_M),
               cost_usd_per_m=2),
)}


@dataclass(frozen=True)
class FailureRate:
    """A component's random failure rate in FIT (failures per 10^9 device-hours; AFR = FIT x 8760 / 1e9).

    `sources` are tags listed in the README's resilience section; `assumptions` say what is not
    published. Rates are constant (the flat part of the bathtub curve).
    """

    component: str
    fit: float
    sources: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()

    @property
    def per_hour(self) -> float:
        return self.fit * 1e-9


# Llama 3 (arXiv 2407.21783, Table 5) [R1]: 54 days on 16,384 H100 = 21.2 M GPU-hours; 268
# interruptions came from the GPU package (faulty GPU 148, HBM3 72, SRAM 19, GPU system processor
# 17, thermal interface 6, silent data corruption 6) and 21 from host boards (NIC 7, SSD 3, power
# supply 3, chassis 2, IO expansion board 2, CPU 2, system memory 2) of 8-GPU servers.
_LLAMA3_HOURS = 16_384 * 54 * 24
FAILURE_RATES: dict[str, FailureRate] = {r.component: r for r in (
    FailureRate("chip", 268 / _LLAMA3_HOURS * 1e9, ("R1",),
                ("an H100's field rate taken for every accelerator (no Ascend figure is published)",)),
    FailureRate("board", 21 / (_LLAMA3_HOURS / 8) * 1e9, ("R1",),
                ("an 8-GPU host's non-GPU hardware taken for any board of chips",)),
    FailureRate("optical-module", 250, ("R2",),
                ("the higher Telcordia SR-332 parts-count figure of [R2] (127-252 FIT); 800G modules "
                 "with 8 lanes and a DSP are likely worse in the field",)),
    FailureRate("aec", 100, (), ("no published figure: a retimer at each end, below an optical module",)),
    FailureRate("dac", 10, (), ("no published figure: passive copper, connector failures only",)),
    FailureRate("pcb", 0, (), ("board traces fail with their board (counted under board)",)),
    FailureRate("switch", 5000, (), ("no published figure: a datasheet-class MTBF of 200,000 h for a "
                                     "high-radix switch box",)),
    FailureRate("low-radix-switch", 2000, (), ("no published figure: a smaller ASIC on the rack's board",)),
)}
