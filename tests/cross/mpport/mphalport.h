/* mphalport.h: nothing: the cross build compiles, it never runs. */
