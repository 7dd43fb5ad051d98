% Text
% Greta is the mother of Hugo. Hugo married Ilse on May 5th, 2016.
% By hand: Greta is Ilse's mother-in-law from the wedding on: §152(d)(2)(G) with respect to
% Ilse for 2017, not for 2015.

% Question
% Greta bears a relationship to Ilse under section 152(d)(2)(G) for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
mother_(greta_mother_of_hugo).
agent_(greta_mother_of_hugo,greta).
patient_(greta_mother_of_hugo,hugo).
marriage_(hugo_weds_ilse).
agent_(hugo_weds_ilse,hugo).
patient_(hugo_weds_ilse,ilse).
start_(hugo_weds_ilse,"2016-05-05").

% Test
:- s152_d_2_G(greta,ilse,2017,_).
:- halt.
