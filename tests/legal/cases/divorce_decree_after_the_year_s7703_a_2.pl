% Text
% Rita married Sam on May 15th, 2010. Their divorce decree was granted on February 1st, 2018.
% By hand: on December 31st, 2017 no decree had been issued: §7703(a)(2) does not apply for 2017.

% Question
% Section 7703(a)(2) applies to Rita for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
marriage_(rita_weds_sam).
agent_(rita_weds_sam,rita).
patient_(rita_weds_sam,sam).
start_(rita_weds_sam,"2010-05-15").
legal_separation_(rita_sam_decree).
agent_(rita_sam_decree,"divorce decree").
patient_(rita_sam_decree,rita_weds_sam).
start_(rita_sam_decree,"2018-02-01").

% Test
:- \+ s7703_a_2(rita,_,_,_,2017).
:- halt.
