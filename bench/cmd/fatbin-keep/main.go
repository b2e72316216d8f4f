// Command fatbin-keep shrinks a CUDA library for transport to one GPU machine: it zeroes the payload of every
// CUDA fatbinary entry (the per-architecture cubins and PTX in the .nv_fatbin section) whose architecture is not
// the one kept, so that xz compresses them away. The result still loads; on a GPU of another architecture its
// kernels are missing. scripts/gpu-check.sh uses it for the ONNX Runtime CUDA provider (about 31 of its 219 MiB
// are the sm_90 cubins of an H100/H200).
//
// Usage:
//
//	fatbin-keep -arch 90 IN OUT
package main

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
)

const fatbinMagic = 0xBA55ED50

func main() {
	arch := flag.Uint("arch", 90, "SM architecture to keep (90: sm_90, H100/H200)")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: fatbin-keep -arch N IN OUT")
		os.Exit(2)
	}
	kept, blanked, err := run(flag.Arg(0), flag.Arg(1), uint32(*arch))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fatbin-keep:", err)
		os.Exit(1)
	}
	fmt.Printf("fatbin-keep: kept %d bytes of sm_%d entries, zeroed %d bytes of other entries\n", kept, *arch, blanked)
}

func run(in, out string, arch uint32) (kept, blanked int, err error) {
	data, err := os.ReadFile(in)
	if err != nil {
		return 0, 0, err
	}
	f, err := elf.Open(in)
	if err != nil {
		return 0, 0, err
	}
	sec := f.Section(".nv_fatbin")
	f.Close()
	if sec == nil {
		return 0, 0, errors.New(in + " has no .nv_fatbin section")
	}
	le := binary.LittleEndian
	start, end := int(sec.Offset), int(sec.Offset+sec.Size)
	for o := start; o+16 <= end; {
		if le.Uint32(data[o:]) != fatbinMagic {
			o += 8 // containers are 8-byte aligned
			continue
		}
		hsz, size := int(le.Uint16(data[o+6:])), int(le.Uint64(data[o+8:]))
		for e := o + hsz; e+32 <= o+hsz+size; {
			ehsz, esize := int(le.Uint32(data[e+4:])), int(le.Uint64(data[e+8:]))
			if le.Uint32(data[e+28:]) == arch {
				kept += esize
			} else {
				clear(data[e+ehsz : e+ehsz+esize])
				blanked += esize
			}
			e += ehsz + esize
		}
		o += hsz + size
	}
	if kept == 0 {
		return 0, 0, fmt.Errorf("no sm_%d entries in %s", arch, in)
	}
	return kept, blanked, os.WriteFile(out, data, 0o755)
}
