% Text
% Hal married Ivy on September 9th, 2012; they were divorced by a decree of March 1st, 2017, but Ivy
% kept living in Hal's flat with him.
% By hand: in 2018 Ivy was at no time Hal's spouse, and she shares his abode all year: (H).

% Question
% Ivy bears a relationship to Hal under section 152(d)(2)(H) for the year 2018. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(hal_ivy_marriage).
agent_(hal_ivy_marriage,hal).
agent_(hal_ivy_marriage,ivy).
start_(hal_ivy_marriage,"2012-09-09").
legal_separation_(hal_ivy_divorce).
agent_(hal_ivy_divorce,"decree of divorce").
patient_(hal_ivy_divorce,hal_ivy_marriage).
start_(hal_ivy_divorce,"2017-03-01").
residence_(hal_lives).
agent_(hal_lives,hal).
patient_(hal_lives,hals_flat).
start_(hal_lives,"2012-09-09").
residence_(ivy_lives).
agent_(ivy_lives,ivy).
patient_(ivy_lives,hals_flat).
start_(ivy_lives,"2012-09-09").

% Test
:- s152_d_2_H(ivy,hal,2018,_,_,_).
:- halt.
