.code32

    outer:
        mov $0x100000, %esi
        mov $0x201000, %edi
        mov $4096, %edx
        
        mov $1024, %ecx
        repe cmpsl

        dec %ebx
        jnz outer
        hlt
    