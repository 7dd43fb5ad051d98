% Text
% Rita married Sam on May 15th, 2010. A court decree of separate maintenance was issued for them on
% May 1st, 2016; they never divorced.
% By hand: legally separated under a decree of separate maintenance: not married (§7703(a)(2)) in 2017.

% Question
% Section 7703(a)(2) applies to Rita for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(rita_weds_sam).
agent_(rita_weds_sam,rita).
patient_(rita_weds_sam,sam).
start_(rita_weds_sam,"2010-05-15").
legal_separation_(rita_sam_decree).
agent_(rita_sam_decree,"decree of separate maintenance").
patient_(rita_sam_decree,rita_weds_sam).
start_(rita_sam_decree,"2016-05-01").

% Test
:- s7703_a_2(rita,_,_,_,2017).
:- halt.
