//go:build amd64 && !race

#include "textflag.h"

// Plain MOVs: on amd64 every aligned 8- or 4-byte store is atomic and
// stores become visible in program order (TSO), so each is a release
// store. See relstore_amd64.go.

// func storeWordsRel(dst, src unsafe.Pointer, n int)
TEXT ·storeWordsRel(SB), NOSPLIT|NOFRAME, $0-24
	MOVQ	dst+0(FP), DI
	MOVQ	src+8(FP), SI
	MOVQ	n+16(FP), CX
	TESTQ	CX, CX
	JZ	done
loop:
	MOVQ	(SI), AX
	MOVQ	AX, (DI)
	ADDQ	$8, SI
	ADDQ	$8, DI
	DECQ	CX
	JNZ	loop
done:
	RET

// func storeRel64(p *uint64, v uint64)
TEXT ·storeRel64(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ	p+0(FP), AX
	MOVQ	v+8(FP), BX
	MOVQ	BX, (AX)
	RET

// func storeRel32(p *uint32, v uint32)
TEXT ·storeRel32(SB), NOSPLIT|NOFRAME, $0-12
	MOVQ	p+0(FP), AX
	MOVL	v+8(FP), BX
	MOVL	BX, (AX)
	RET
