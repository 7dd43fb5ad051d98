% Text
% Pat has never married. Quinn, no relative of Pat, has lived with Pat in Pat's flat since 2012;
% Pat pays all of its costs ($9000 in 2017). Quinn had no income in 2017.
% By hand: Pat's household is the abode of Quinn, who is Pat's dependent only by §152(d)(2)(H):
% §2(b)(3)(B) keeps Pat from being a head of household by reason of Quinn, so §2(b)(3)
% applies to Pat.

% Question
% Section 2(b)(3) applies to Pat in 2017. Entailment

% Facts
:- [statutes/prolog/init].
residence_(pat_home).
agent_(pat_home,pat).
patient_(pat_home,pats_flat).
start_(pat_home,"2010-01-01").
residence_(quinn_home).
agent_(quinn_home,quinn).
patient_(quinn_home,pats_flat).
start_(quinn_home,"2012-01-01").
payment_(pat_keeps_flat).
agent_(pat_keeps_flat,pat).
purpose_(pat_keeps_flat,pats_flat).
amount_(pat_keeps_flat,9000).
start_(pat_keeps_flat,"2017-06-30").
payment_(pat_paid).
patient_(pat_paid,pat).
amount_(pat_paid,40000).
start_(pat_paid,"2017-12-31").

% Test
:- s2_b_3(pat,2017).
:- halt.
