/* SPDX-License-Identifier: MIT */
/* main.c - placeholder while the program is being written. */
int main(void)
{
    return 0;
}
