% Text
% Gus and Hana have been married since August 8th, 2009 and file a joint return for 2017.
% Gus was paid $200000 and Hana $50000 in 2017. They do not itemize and have no children.
% By hand: gross income $250,000 (below $300,000, §68(b)(1)(A): no phaseout); $250,000 -
% $6,000 - $4,000 = $240,000: §1(a)(iv), $35,928.50 + 36% of $100,000 = $71,928.50,
% $71,929 rounded half up.

% Question
% How much tax does gus have to pay in 2017? $71929

% Facts
:- [statutes/prolog/init].
marriage_(gus_and_hana).
agent_(gus_and_hana,gus).
agent_(gus_and_hana,hana).
start_(gus_and_hana,"2009-08-08").
joint_return_(gus_and_hana_2017).
agent_(gus_and_hana_2017,gus).
agent_(gus_and_hana_2017,hana).
start_(gus_and_hana_2017,"2017-01-01").
end_(gus_and_hana_2017,"2017-12-31").
payment_(gus_paid).
patient_(gus_paid,gus).
amount_(gus_paid,200000).
start_(gus_paid,"2017-12-31").
payment_(hana_paid).
patient_(hana_paid,hana).
amount_(hana_paid,50000).
start_(hana_paid,"2017-12-31").

% Test
:- tax(gus,2017,71929).
:- halt.
