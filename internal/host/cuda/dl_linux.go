package cuda

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdlib.h>

static void *vs_open(const char *name, int global) {
	return dlopen(name, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
}
static const char *vs_error(void) { const char *e = dlerror(); return e ? e : "unknown dlopen error"; }
static const char *vs_path(void *h) {
	struct link_map *lm = NULL;
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || lm == NULL) return "";
	return lm->l_name;
}
// vs_int_out calls int sym(int *out); it returns -1000 when sym is missing.
static int vs_int_out(void *h, const char *sym, int *out) {
	int (*f)(int *) = (int (*)(int *))dlsym(h, sym);
	return f ? f(out) : -1000;
}
static size_t vs_size_void(void *h, const char *sym) {
	size_t (*f)(void) = (size_t (*)(void))dlsym(h, sym);
	return f ? f() : 0;
}
static int vs_cu_init(void *h) {
	int (*f)(unsigned) = (int (*)(unsigned))dlsym(h, "cuInit");
	return f ? f(0) : -1000;
}
static int vs_cu_device(void *h, int ordinal, char *name, int len, size_t *mem) {
	int (*get)(int *, int) = (int (*)(int *, int))dlsym(h, "cuDeviceGet");
	int (*getName)(char *, int, int) = (int (*)(char *, int, int))dlsym(h, "cuDeviceGetName");
	int (*totalMem)(size_t *, int) = (int (*)(size_t *, int))dlsym(h, "cuDeviceTotalMem_v2");
	int dev = 0, rc;
	if (!get || !getName || !totalMem) return -1000;
	if ((rc = get(&dev, ordinal)) != 0) return rc;
	if ((rc = getName(name, len, dev)) != 0) return rc;
	return totalMem(mem, dev);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// dlopen loads soname through the dynamic loader (LD_LIBRARY_PATH, the ld.so cache, the system directories).
func dlopen(soname string, global bool) (unsafe.Pointer, error) {
	cs := C.CString(soname)
	defer C.free(unsafe.Pointer(cs))
	g := C.int(0)
	if global {
		g = 1
	}
	h := C.vs_open(cs, g)
	if h == nil {
		return nil, errors.New(C.GoString(C.vs_error()))
	}
	return h, nil
}

func symInt(h unsafe.Pointer, sym string) (value, rc int) {
	cs := C.CString(sym)
	defer C.free(unsafe.Pointer(cs))
	var out C.int
	rc = int(C.vs_int_out(h, cs, &out))
	return int(out), rc
}

func findLibrary(req Requirement) Library {
	l := Library{Requirement: req}
	h, err := dlopen(req.Soname, false)
	if err != nil {
		l.Err = err
		return l
	}
	l.Path = C.GoString(C.vs_path(h))
	switch req.Soname {
	case "libcudart.so.13":
		if v, rc := symInt(h, "cudaRuntimeGetVersion"); rc == 0 {
			l.Version = v
		}
	case "libcudnn.so.9":
		cs := C.CString("cudnnGetVersion")
		l.Version = int(C.vs_size_void(h, cs))
		C.free(unsafe.Pointer(cs))
	}
	return l
}

// probeDevices asks the CUDA runtime (what the provider asks) for its devices, and the driver for their names.
func probeDevices(r *Report) {
	rt, err := dlopen("libcudart.so.13", false)
	if err != nil {
		r.DeviceErr = fmt.Errorf("%w: libcudart.so.13: %v", ErrLibraryMissing, err)
		return
	}
	if v, rc := symInt(rt, "cudaRuntimeGetVersion"); rc == 0 {
		r.RuntimeVersion = v
	}
	if v, rc := symInt(rt, "cudaDriverGetVersion"); rc == 0 {
		r.DriverVersion = v
	}
	n, rc := symInt(rt, "cudaGetDeviceCount")
	if rc != 0 {
		r.DeviceErr = cudaError(rc)
		return
	}
	r.DeviceCount = n
	drv, err := dlopen("libcuda.so.1", false)
	if err != nil || C.vs_cu_init(drv) != 0 {
		return
	}
	for i := range n {
		var name [256]C.char
		var mem C.size_t
		if C.vs_cu_device(drv, C.int(i), &name[0], C.int(len(name)), &mem) == 0 {
			r.GPUs = append(r.GPUs, GPU{Index: i, Name: C.GoString(&name[0]), MemoryBytes: uint64(mem)})
		}
	}
}

// PreloadRuntime loads the CUDA 13 runtime with RTLD_GLOBAL. GoMLX's onnx:cuda backend resolves cudaMemcpy from
// the global scope first and would otherwise dlopen only libcudart.so, .so.12 or .so.11, never .so.13.
func PreloadRuntime() error {
	if _, err := dlopen("libcudart.so.13", true); err != nil {
		return fmt.Errorf("%w: preload libcudart.so.13 for GoMLX's onnx:cuda backend: %v", ErrLibraryMissing, err)
	}
	return nil
}
