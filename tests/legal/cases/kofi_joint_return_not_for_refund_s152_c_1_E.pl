% Text
% Kofi, born 2000-02-14, is Lena's son and has lived with her since his birth. Kofi married Ama
% on 2018-09-01. Neither has any income in 2019, and they filed an ordinary joint return for
% 2019.
% By hand: §152(c)(1)(E) asks that Kofi "has not filed a joint return (other than only for a
% claim of refund)". He filed one, and not only for a claim of refund: (c)(1)(E) does not hold.

% Question
% Section 152(c)(1)(E) applies to Kofi for the year 2019. Contradiction

% Facts
:- [statutes/prolog/init].
son_(kofi_son).
agent_(kofi_son,kofi).
patient_(kofi_son,lena).
start_(kofi_son,"2000-02-14").
residence_(lena_home).
agent_(lena_home,lena).
agent_(lena_home,kofi).
patient_(lena_home,home).
start_(lena_home,"2000-02-14").
marriage_(kofi_ama).
agent_(kofi_ama,kofi).
agent_(kofi_ama,ama).
start_(kofi_ama,"2018-09-01").
joint_return_(kofi_ama_return).
agent_(kofi_ama_return,kofi).
agent_(kofi_ama_return,ama).
type_(kofi_ama_return,"regular").
start_(kofi_ama_return,"2019-01-01").
end_(kofi_ama_return,"2019-12-31").

% Test
:- \+ s152_c_1_E(kofi,_,2019).
:- halt.
