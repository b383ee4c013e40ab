/* fake_nvml.h - the canned numbers of fake_nvml.c, shared with the tests. */
#ifndef PB_TEST_FAKE_NVML_H
#define PB_TEST_FAKE_NVML_H

#define FAKE_MAX_DEV 4
#define FAKE_GIB 1073741824ull
/* device i has 80 GiB (i = 0) or 40 GiB; others use 2 GiB (+ i MiB) of it */
#define FAKE_TOTAL(i) ((i) == 0 ? 80ull * FAKE_GIB : 40ull * FAKE_GIB)
#define FAKE_BASE_USED(i) (2ull * FAKE_GIB + (unsigned long long)(i)*1048576ull)
#define FAKE_OTHERS 40u
#define FAKE_OTHER_BYTES 123456789ull
/* this process holds 1 GiB on device 0 after nvmlInit */
#define FAKE_PROC0_INITIAL FAKE_GIB

#endif
